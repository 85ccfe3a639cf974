"""Web API methods that read: auth.test, conversations.*, users.*, usergroups.*.

Pagination is modelled as a single page (`next_cursor` empty) because the
emulated workspace is small; `limit` is still honoured where Slack honours it.
"""

from __future__ import annotations

from bot.sandbox.emulator.api_common import (
    ApiContext,
    ApiError,
    Method,
    channel_arg,
    member_channel_arg,
    opt_bool,
    opt_int,
    opt_str,
    req_str,
    str_list,
)
from bot.sandbox.emulator.models import JSONDict

_NO_MORE: JSONDict = {"response_metadata": {"next_cursor": ""}}


def auth_test(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_domain,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def conversations_list(ctx: ApiContext, args: JSONDict) -> JSONDict:
    types = set(str_list(args, "types") or ["public_channel"])
    # Nothing is ever archived, so exclude_archived needs no handling.
    wanted = [c.to_api() for c in ctx.workspace.channels.values() if c.kind in types]
    limit = opt_int(args, "limit", 1000)
    return {"channels": wanted[:limit], **_NO_MORE}


def conversations_info(ctx: ApiContext, args: JSONDict) -> JSONDict:
    return {"channel": channel_arg(ctx, args).to_api()}


def _in_window(ts: str, args: JSONDict) -> bool:
    inclusive = opt_bool(args, "inclusive")
    oldest, latest = opt_str(args, "oldest"), opt_str(args, "latest")
    value = float(ts)
    if oldest is not None and (value < float(oldest) or (value == float(oldest) and not inclusive)):
        return False
    return not (
        latest is not None and (value > float(latest) or (value == float(latest) and not inclusive))
    )


def conversations_history(ctx: ApiContext, args: JSONDict) -> JSONDict:
    channel = member_channel_arg(ctx, args)
    limit = opt_int(args, "limit", 100)
    newest_first = list(reversed(ctx.workspace.messages(channel.id)))
    selected = [m for m in newest_first if _in_window(str(m["ts"]), args)]
    if not opt_bool(args, "include_all_metadata"):  # Slack sends metadata only when asked
        selected = [{k: v for k, v in m.items() if k != "metadata"} for m in selected]
    return {"messages": selected[:limit], "has_more": len(selected) > limit, **_NO_MORE}


def conversations_replies(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    channel = member_channel_arg(ctx, args)
    ts = req_str(args, "ts", "thread_not_found")
    parent = ws.get_message(channel.id, ts)
    replies = ws.replies(channel.id, ts)
    if parent is None and not replies:
        raise ApiError("thread_not_found")
    thread = ([parent] if parent is not None else []) + replies
    limit = opt_int(args, "limit", 1000)
    selected = [m for m in thread if _in_window(str(m["ts"]), args)]
    return {"messages": selected[:limit], "has_more": len(selected) > limit, **_NO_MORE}


def conversations_open(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    users = str_list(args, "users")
    if not users and opt_str(args, "channel") is not None:
        return {"channel": channel_arg(ctx, args).to_api()}
    if len(users) != 1:
        raise ApiError("not_enough_users" if not users else "too_many_users")
    if users[0] not in ws.users:
        raise ApiError("user_not_found")
    channel = ws.channels[ws.open_dm(users[0])]
    if opt_bool(args, "return_im"):
        return {"channel": channel.to_api()}
    return {"channel": {"id": channel.id}}


def users_info(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    user = ws.users.get(req_str(args, "user", "user_not_found"))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user.to_api(ws.team_id)}


def users_list(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    members = [user.to_api(ws.team_id) for user in ws.users.values()]
    return {"members": members, **_NO_MORE}


def usergroups_list(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    include_users = opt_bool(args, "include_users")
    groups = []
    for group in ws.usergroups.values():
        data: JSONDict = {
            "id": group.id,
            "team_id": ws.team_id,
            "handle": group.handle,
            "name": group.handle,
            "user_count": len(group.users),
        }
        if include_users:
            data["users"] = list(group.users)
        groups.append(data)
    return {"usergroups": groups}


def usergroups_users_list(ctx: ApiContext, args: JSONDict) -> JSONDict:
    group = ctx.workspace.usergroups.get(req_str(args, "usergroup", "no_such_subteam"))
    if group is None:
        raise ApiError("no_such_subteam")
    return {"users": list(group.users)}


DIRECTORY_METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "conversations.list": conversations_list,
    "conversations.info": conversations_info,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "conversations.open": conversations_open,
    "users.info": users_info,
    "users.list": users_list,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
}

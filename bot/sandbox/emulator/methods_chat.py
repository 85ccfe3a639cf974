"""Web API methods that write: chat.*, reactions.add, views.publish.

Each function mirrors the documented Slack behaviour closely enough that the
bot cannot tell the difference, including the error codes it must handle.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.emulator.api_common import (
    ApiContext,
    ApiError,
    Method,
    RateLimited,
    channel_arg,
    invalid_blocks,
    member_channel_arg,
    opt_json,
    opt_str,
    req_str,
)
from bot.sandbox.emulator.blockkit import MESSAGE_TEXT_MAX, message_errors, view_errors
from bot.sandbox.emulator.models import JSONDict

CUSTOMIZE = "chat:write.customize"


def _check_limits(text: str | None, blocks: Any) -> None:
    """Block Kit's limits and the 40,000-character message text, as Slack enforces them."""
    if text is not None and len(text) > MESSAGE_TEXT_MAX:
        raise ApiError("msg_too_long")
    if blocks is not None:
        errors = message_errors(blocks)
        if errors:
            raise invalid_blocks(errors)


def _content(args: JSONDict) -> JSONDict:
    """text/blocks/attachments/metadata as given; raises no_text if all are missing."""
    content: JSONDict = {}
    text = opt_str(args, "text")
    blocks = opt_json(args, "blocks")
    attachments = opt_json(args, "attachments")
    metadata = opt_json(args, "metadata")
    if text is None and not blocks and not attachments:
        raise ApiError("no_text")
    _check_limits(text, blocks)
    content["text"] = text or ""
    if blocks is not None:
        content["blocks"] = blocks
    if attachments is not None:
        content["attachments"] = attachments
    if metadata is not None:
        content["metadata"] = metadata
    return content


def _bot_message(ctx: ApiContext, ts: str, content: JSONDict) -> JSONDict:
    ws = ctx.workspace
    message: JSONDict = {
        "type": "message",
        "user": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "app_id": ws.app_id,
        "team": ws.team_id,
        "ts": ts,
        **content,
    }
    return message


def _customized(ctx: ApiContext, args: JSONDict) -> JSONDict:
    """username and icon_url/icon_emoji, which Slack honours only with chat:write.customize
    (without it the post goes out under the app's own name and icon, silently)."""
    if CUSTOMIZE not in ctx.granted():
        return {}
    shown: JSONDict = {}
    if (username := opt_str(args, "username")) is not None:
        shown["username"] = username[:80]
    if (icon := opt_str(args, "icon_url")) is not None:
        shown["icons"] = {"image_48": icon}
    elif (emoji := opt_str(args, "icon_emoji")) is not None:
        shown["icons"] = {"emoji": emoji}
    return shown


def post_message(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    channel = member_channel_arg(ctx, args)
    content = _content(args)
    retry_after = ctx.limiter.acquire(channel.id)
    if retry_after is not None:
        raise RateLimited(retry_after)
    message = _bot_message(ctx, ws.next_ts(), content)
    message.update(_customized(ctx, args))
    thread_ts = opt_str(args, "thread_ts")
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    message["channel"] = channel.id
    ws.store_message(channel.id, message)
    ctx.on_bot_post(channel.id, message)
    return {"channel": channel.id, "ts": message["ts"], "message": dict(message)}


def update(ctx: ApiContext, args: JSONDict) -> JSONDict:
    channel = channel_arg(ctx, args)
    ts = req_str(args, "ts", "message_not_found")
    changes: JSONDict = {}
    text = opt_str(args, "text")
    if text is not None:
        changes["text"] = text
    for key in ("blocks", "attachments", "metadata"):
        if key in args:
            changes[key] = opt_json(args, key)
    if not changes:
        raise ApiError("no_text")
    _check_limits(changes.get("text"), changes.get("blocks"))
    current = ctx.workspace.get_message(channel.id, ts)
    if current is None:
        raise ApiError("message_not_found")
    if current.get("bot_id") != ctx.workspace.bot_id:
        raise ApiError("cant_update_message")
    message = ctx.workspace.update_message(channel.id, ts, changes)
    assert message is not None
    return {"channel": channel.id, "ts": ts, "text": message.get("text", ""), "message": message}


def delete(ctx: ApiContext, args: JSONDict) -> JSONDict:
    channel = channel_arg(ctx, args)
    ts = req_str(args, "ts", "message_not_found")
    if not ctx.workspace.delete_message(channel.id, ts):
        raise ApiError("message_not_found")
    return {"channel": channel.id, "ts": ts}


def post_ephemeral(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    channel = member_channel_arg(ctx, args)
    user = req_str(args, "user", "user_not_found")
    if user not in ws.users:
        raise ApiError("user_not_found")
    content = _content(args)
    ts = ws.next_ts()
    record: JSONDict = {
        "channel": channel.id,
        "user": user,
        "text": content["text"],
        "blocks": content.get("blocks"),
        "ts": ts,
        "thread_ts": opt_str(args, "thread_ts"),
    }
    ws.ephemerals.append(record)
    ws.changed()
    return {"message_ts": ts}


def get_permalink(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    channel = channel_arg(ctx, args)
    ts = req_str(args, "message_ts", "message_not_found")
    message = ws.get_message(channel.id, ts)
    if message is None:
        raise ApiError("message_not_found")
    link = f"https://{ws.team_domain}.slack.com/archives/{channel.id}/p{ts.replace('.', '')}"
    thread_ts = message.get("thread_ts")
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


def reactions_add(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    channel = channel_arg(ctx, args)
    ts = req_str(args, "timestamp", "message_not_found")
    name = req_str(args, "name", "invalid_name").strip(":")
    message = ws.get_message(channel.id, ts)
    if message is None:
        raise ApiError("message_not_found")
    if not ws.add_reaction(message, name, ws.bot_user_id):
        raise ApiError("already_reacted")
    return {}


def views_publish(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    user_id = req_str(args, "user_id", "user_not_found")
    if user_id not in ws.users:
        raise ApiError("user_not_found")
    view = opt_json(args, "view")
    if not isinstance(view, dict) or view.get("type") != "home":
        raise ApiError("invalid_arguments")
    errors = view_errors(view)
    if errors:
        raise ApiError(
            "invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
        )
    ws.views[user_id] = view
    ws.changed()
    return {"view": {"id": f"V{len(ws.views):08d}", "team_id": ws.team_id, **view}}


CHAT_METHODS: dict[str, Method] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
    "reactions.add": reactions_add,
    "views.publish": views_publish,
}

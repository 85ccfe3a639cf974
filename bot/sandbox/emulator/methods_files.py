"""Web API methods of the external upload flow that files_upload_v2 drives.

1. files.getUploadURLExternal announces a file and returns a one-off URL;
2. the client POSTs the bytes to that URL (served by `file_urls.FileUrls`);
3. files.completeUploadExternal names the files and shares them into a channel
   (or a thread), which posts a `file_share` message carrying them.

Like Slack, a declared length that differs from the bytes sent is tolerated:
the stored size is what actually arrived.
"""

from __future__ import annotations

import mimetypes
import secrets
import time
from pathlib import PurePosixPath
from urllib.parse import quote

from bot.sandbox.emulator import payloads
from bot.sandbox.emulator.api_common import (
    ApiContext,
    ApiError,
    Method,
    opt_json,
    opt_str,
    req_str,
    str_list,
)
from bot.sandbox.emulator.models import Channel, JSONDict, UploadedFile


def get_upload_url(ctx: ApiContext, args: JSONDict) -> JSONDict:
    name = req_str(args, "filename")
    length = _length(args)
    upload = UploadedFile(
        id=payloads.new_id("F"),
        name=name,
        length=length,
        upload_key=secrets.token_urlsafe(16),
        created=int(time.time()),
        title=name,
        alt_txt=opt_str(args, "alt_txt"),
        snippet_type=opt_str(args, "snippet_type"),
    )
    ctx.workspace.add_file(upload)
    return {"upload_url": ctx.public_url(f"/upload/v1/{upload.upload_key}"), "file_id": upload.id}


def complete_upload(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    uploads = [(_uploaded(ctx, item), item) for item in _files_arg(args)]
    channels = _share_targets(ctx, args)
    thread_ts = opt_str(args, "thread_ts")
    if thread_ts is not None and len(channels) > 1:
        raise ApiError("invalid_arguments")  # "provide only one channel when using thread_ts"
    for upload, item in uploads:
        upload.title = str(item.get("title") or upload.title or upload.name)
        upload.completed = True
        upload.thread_ts = thread_ts
        upload.channels.extend(c.id for c in channels if c.id not in upload.channels)
    for channel in channels:
        message = _share_message(ctx, channel, [u for u, _ in uploads], args, thread_ts)
        for upload, _ in uploads:
            upload.share_ts.append(str(message["ts"]))
        ws.store_message(channel.id, message)
        ctx.on_bot_post(channel.id, message)
    ws.changed()
    return {"files": [file_object(ctx, u) for u, _ in uploads]}


def file_object(ctx: ApiContext, upload: UploadedFile) -> JSONDict:
    """Render like Slack's file object (the fields a client commonly reads)."""
    ws = ctx.workspace
    name = quote(upload.name, safe="")
    private = ctx.public_url(f"/files-pri/{ws.team_id}-{upload.id}/{name}")
    data: JSONDict = {
        "id": upload.id,
        "created": upload.created,
        "timestamp": upload.created,
        "name": upload.name,
        "title": upload.title,
        "mimetype": mimetype(upload),
        "filetype": _filetype(upload),
        "user": upload.owner or ws.bot_user_id,
        "user_team": ws.team_id,
        "size": upload.size,
        "mode": "snippet" if upload.snippet_type else "hosted",
        "is_external": False,
        "is_public": any(_is_public(ctx, c) for c in upload.channels),
        "url_private": private,
        "url_private_download": f"{private}?download=1",
        "permalink": f"https://{ws.team_domain}.slack.com/files/{ws.bot_user_id}/{upload.id}/{name}",
        "channels": [c for c in upload.channels if _kind(ctx, c) == "channel"],
        "groups": [c for c in upload.channels if _kind(ctx, c) == "group"],
        "ims": [c for c in upload.channels if _kind(ctx, c) == "im"],
    }
    if upload.alt_txt is not None:
        data["alt_txt"] = upload.alt_txt
    return data


def _length(args: JSONDict) -> int:
    value = req_str(args, "length")
    try:
        length = int(value)
    except ValueError:
        raise ApiError("invalid_arguments") from None
    if length < 0:
        raise ApiError("invalid_arguments")
    return length


def _files_arg(args: JSONDict) -> list[JSONDict]:
    """The `files` argument: a non-empty JSON list of {"id": ..., "title": ...}."""
    if "files" not in args:
        raise ApiError("invalid_arguments")
    try:
        items = opt_json(args, "files")
    except ApiError:
        raise ApiError("invalid_arguments") from None
    if (
        not isinstance(items, list)
        or not items
        or not all(isinstance(i, dict) and i.get("id") for i in items)
    ):
        raise ApiError("invalid_arguments")
    return [dict(i) for i in items]


def _uploaded(ctx: ApiContext, item: JSONDict) -> UploadedFile:
    """A known file whose bytes have arrived; anything else is file_not_found."""
    upload = ctx.workspace.files.get(str(item["id"]))
    if upload is None or upload.content is None:
        raise ApiError("file_not_found")
    return upload


def _share_targets(ctx: ApiContext, args: JSONDict) -> list[Channel]:
    """channel_id and/or channels (comma separated); none keeps the file private."""
    refs = str_list(args, "channel_id") + str_list(args, "channels")
    targets: list[Channel] = []
    for ref in dict.fromkeys(refs):
        channel = ctx.workspace.resolve_channel(ref)
        if channel is None:
            raise ApiError("channel_not_found")
        if not channel.is_member:
            raise ApiError("not_in_channel")
        targets.append(channel)
    return targets


def _share_message(
    ctx: ApiContext,
    channel: Channel,
    uploads: list[UploadedFile],
    args: JSONDict,
    thread_ts: str | None,
) -> JSONDict:
    ws = ctx.workspace
    comment = opt_str(args, "initial_comment")
    message: JSONDict = {
        "type": "message",
        "subtype": "file_share",
        "user": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "team": ws.team_id,
        "ts": ws.next_ts(),
        "text": comment or "",
        "files": [file_object(ctx, u) for u in uploads],
        "upload": True,
        "display_as_bot": False,
        "channel": channel.id,
    }
    blocks = opt_json(args, "blocks") if comment is None else None
    if blocks:
        message["blocks"] = blocks
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    return message


def mimetype(upload: UploadedFile) -> str:
    """Guessed from the file name, as Slack does for hosted files."""
    guessed, _ = mimetypes.guess_type(upload.name)
    if guessed:
        return guessed
    return "text/plain" if upload.snippet_type else "application/octet-stream"


def _filetype(upload: UploadedFile) -> str:
    if upload.snippet_type:
        return upload.snippet_type
    suffix = PurePosixPath(upload.name).suffix.lower().lstrip(".")
    return {"": "binary", "txt": "text", "jpeg": "jpg"}.get(suffix, suffix)


def _kind(ctx: ApiContext, channel_id: str) -> str:
    return ctx.workspace.channel_type(channel_id)


def _is_public(ctx: ApiContext, channel_id: str) -> bool:
    return _kind(ctx, channel_id) == "channel"


def info(ctx: ApiContext, args: JSONDict) -> JSONDict:
    """files.info: the full file object (what a message's `check_file_info` stub stands for)."""
    upload = ctx.workspace.files.get(req_str(args, "file", "file_not_found"))
    if upload is None or not upload.completed:
        raise ApiError("file_not_found")
    return {"file": file_object(ctx, upload)}


FILES_METHODS: dict[str, Method] = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
    "files.info": info,
}

"""The HTTP side of files: upload URLs (step 2 of files_upload_v2) and url_private.

Like files.slack.com, an upload URL needs no token (it is a secret itself),
accepts the bytes raw or as a multipart form, and answers `OK - <size>` as
text/plain. Faults queued with `fail_next(UPLOAD_URL)` apply to it (an
`error=`-only fault answers HTTP 500, since any 200 means success here).
url_private downloads need the bot token as a Bearer header and, as in Slack, the
files:read scope (without it Slack answers with its sign-in page, never the file).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import BodyPartReader, web

from bot.sandbox.emulator.faults import FaultInjector
from bot.sandbox.emulator.methods_files import mimetype
from bot.sandbox.emulator.state import Workspace

UPLOAD_URL = "upload_url"  # the pseudo method name recorded and used by fail_next
DOWNLOAD_URL = "url_private"  # ... and the one of downloads
READ_FILES = "files:read"


class FileUrls:
    """Receives uploaded bytes and serves them back."""

    def __init__(
        self,
        workspace: Workspace,
        faults: FaultInjector,
        bot_token: str,
        granted: Callable[[], frozenset[str]] = frozenset,
    ) -> None:
        self.workspace = workspace
        self.faults = faults
        self.bot_token = bot_token
        self.granted = granted

    async def upload(self, request: web.Request) -> web.StreamResponse:
        ws = self.workspace
        upload = ws.file_by_upload_key(request.match_info["key"])
        args = {"file_id": upload.id if upload else None}
        fault = self.faults.take(UPLOAD_URL)
        if fault is not None:
            ws.record_call(UPLOAD_URL, args, False, fault.error)
            if fault.drop and request.transport is not None:
                request.transport.abort()
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
            status = fault.status if fault.status != 200 else 500  # a 200 would mean success
            return web.Response(status=status, text=str(fault.error), headers=headers)
        if upload is None:
            ws.record_call(UPLOAD_URL, args, False, "not_found")
            return web.Response(status=404, text="Not Found")
        upload.content = await _read_bytes(request)
        ws.record_call(UPLOAD_URL, {**args, "size": upload.size}, True, None)
        return web.Response(text=f"OK - {upload.size}")

    async def download(self, request: web.Request) -> web.StreamResponse:
        ws = self.workspace
        _, _, file_id = request.match_info["team_file"].partition("-")
        args = {"file_id": file_id}
        if request.headers.get("Authorization", "") != f"Bearer {self.bot_token}":
            ws.record_call(DOWNLOAD_URL, args, False, "not_authed")
            return web.Response(status=403, text="Forbidden")
        if READ_FILES not in self.granted():
            ws.record_call(DOWNLOAD_URL, args, False, "missing_scope")
            return web.Response(
                status=200, text="<html>Sign in to Slack</html>", content_type="text/html"
            )
        fault = self.faults.take(DOWNLOAD_URL)
        if fault is not None:
            ws.record_call(DOWNLOAD_URL, args, False, fault.error)
            status = fault.status if fault.status != 200 else 500
            return web.Response(status=status, text=str(fault.error))
        upload = ws.files.get(file_id)
        if upload is None or upload.content is None or not upload.completed:
            ws.record_call(DOWNLOAD_URL, args, False, "file_not_found")
            return web.Response(status=404, text="Not Found")
        ws.record_call(DOWNLOAD_URL, args, True, None)
        return web.Response(body=upload.content, content_type=mimetype(upload))


async def _read_bytes(request: web.Request) -> bytes:
    """The raw body, or the first file part (else the first part) of a multipart form."""
    if request.content_type != "multipart/form-data":
        return await request.content.read()
    reader = await request.multipart()
    first: bytes | None = None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        data = bytes(await part.read(decode=True))
        if part.filename is not None:
            return data
        if first is None:
            first = data
    return first or b""

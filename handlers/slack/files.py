"""The files a Slack message carries, fetched for the case (customers' shared files, agents'
attachments to a reply).

Only what the attachment policy accepts is downloaded, never more than its size limit, and
only from Slack's own hosts: the bot token goes nowhere else. A file that cannot be fetched
is listed as not kept; the message itself is never held up or lost for it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from services.attachments import AttachmentPolicy, safe_filename, within_message
from services.types import IncomingAttachment

log = logging.getLogger(__name__)

FILE_HOSTS = frozenset({"files.slack.com", "slack-files.com"})
DOWNLOAD_TIMEOUT_SECONDS = 30.0
CHUNK = 64 * 1024


class SlackFiles:
    """Downloads a message's files with the bot token (files:read)."""

    def __init__(self, client: AsyncWebClient, policy: AttachmentPolicy) -> None:
        self._client = client
        self.policy = policy

    async def fetch(self, event: dict[str, Any]) -> tuple[IncomingAttachment, ...]:
        """Each file of the message: its bytes when kept, else why not (past the message's
        count, never downloaded)."""
        files = [f for f in event.get("files") or [] if isinstance(f, dict)]
        fetched = [await self._one(f) for f in files[: self.policy.max_files]]
        fetched += [
            described(f, f"more than {self.policy.max_files} files")
            for f in files[self.policy.max_files :]
        ]
        return within_message(
            fetched, max_files=self.policy.max_files, max_total=self.policy.max_total
        )

    async def _one(self, file: dict[str, Any]) -> IncomingAttachment:
        if file.get("file_access") == "check_file_info":  # a stub: files.info has the rest
            try:
                file = (await self._client.files_info(file=str(file.get("id")))).get("file") or {}
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
                log.warning("file %s: files.info failed: %s", file.get("id"), error)
                return described(file, "could not be fetched from Slack")
        listed = described(file)
        name, content_type = listed.filename, listed.content_type
        refused = self.policy.refusal(content_type, listed.size)
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        if refused is None and not self._ours(url):
            refused = "not a file Slack hosts"
        if refused is not None:
            return _refused(listed, refused)
        try:
            content = await self._download(url)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("file %s (%s) not fetched: %s", file.get("id"), name, error)
            return _refused(listed, "could not be fetched from Slack")
        if len(content) > self.policy.max_bytes:
            return _refused(listed, f"larger than {self.policy.max_bytes:,} bytes")
        return IncomingAttachment(
            filename=name, content_type=content_type, size=len(content), content=content
        )

    def _ours(self, url: str) -> bool:
        """Slack's file hosts, or the host its API is on (the emulator serves both)."""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            return False
        if parts.hostname in FILE_HOSTS and parts.scheme == "https":
            return True
        api = urlsplit(self._client.base_url)
        return (parts.scheme, parts.netloc) == (api.scheme, api.netloc)

    async def _download(self, url: str) -> bytes:
        """At most max_bytes + 1 bytes of the file (more means too large)."""
        session = self._client.session
        owned = session is None
        http = session or aiohttp.ClientSession()
        try:
            async with http.get(
                url,
                headers={"Authorization": f"Bearer {self._client.token}"},
                timeout=aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_SECONDS),
                allow_redirects=False,  # a redirect would carry the token elsewhere
            ) as response:
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
                if response.content_type == "text/html":
                    raise ValueError("Slack answered with a page, not the file (files:read?)")
                data = bytearray()
                async for chunk in response.content.iter_chunked(CHUNK):
                    data += chunk
                    if len(data) > self.policy.max_bytes:
                        break
                return bytes(data)
        finally:
            if owned:
                await http.close()


def described(file: dict[str, Any], refused: str | None = None) -> IncomingAttachment:
    """A Slack file object as the case lists it: a safe name, its type and size (no bytes)."""
    try:
        size = max(0, int(file.get("size") or 0))
    except (TypeError, ValueError):
        size = 0
    return IncomingAttachment(
        filename=safe_filename(str(file.get("name") or file.get("title") or "")),
        content_type=str(file.get("mimetype") or "application/octet-stream")[:255],
        size=size,
        refused=refused,
    )


def _refused(listed: IncomingAttachment, why: str) -> IncomingAttachment:
    return IncomingAttachment(
        filename=listed.filename, content_type=listed.content_type, size=listed.size, refused=why
    )

"""A small, typed IMAP layer over aioimaplib for the inbound mail poller.

aioimaplib is untyped and has sharp edges: a failed login returns ``NO`` instead of raising,
IDLE pushes carry sequence numbers rather than UIDs, there is no ``uid_fetch`` and a plain
``BODY[]`` fetch silently marks mail as read. This module hides those behind a handful of
methods that use UIDs only, never change flags unless asked, and turn every failure mode
(NO/BAD, protocol errors, lost connections, timeouts) into one exception, ``ImapError``, so
the poller has a single thing to catch before it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl as ssl_module
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aioimaplib import IMAP4, IMAP4_SSL, STOP_WAIT_SERVER_PUSH, AioImapException

__all__ = ["ImapError", "ImapMailbox", "SelectInfo"]

T = TypeVar("T")

# IMAP servers drop an IDLE after 30 minutes of silence (RFC 2177); stay below that.
MAX_IDLE_SECONDS = 29 * 60.0

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]", re.IGNORECASE)
_EXISTS = re.compile(rb"^(\d+) EXISTS$", re.IGNORECASE)
_FETCH_LINE = re.compile(rb"^\d+ FETCH \(", re.IGNORECASE)
_FETCH_UID = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.IGNORECASE)
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)", re.IGNORECASE)


class ImapError(Exception):
    """Any IMAP failure: refused connection, NO/BAD answer, protocol error or timeout.

    The poller treats all of them alike (log, back off, reconnect), so one type is enough.
    """


@dataclass(frozen=True)
class SelectInfo:
    """What SELECT tells us: a changed uidvalidity means stored UIDs no longer apply."""

    uidvalidity: int
    exists: int
    uidnext: int | None


def _lines(response: Any) -> list[bytes]:
    """Response lines as bytes (aioimaplib hands literals back as bytearray)."""
    return [bytes(line) for line in response.lines]


class ImapMailbox:
    """One IMAP connection with one selected mailbox, addressed by UID throughout.

    Not safe for concurrent use: IMAP is a conversation, and aioimaplib requires IDLE to be
    finished before the next command, so callers must await one method at a time.
    """

    def __init__(self) -> None:
        self._client: Any = None
        self._timeout = 30.0

    @property
    def _imap(self) -> Any:
        if self._client is None:
            raise ImapError("not connected")
        return self._client

    async def _run(self, what: str, awaitable: Awaitable[T]) -> T:
        """Await one command with the connection's deadline, mapping failures to ImapError."""
        limit = self._timeout
        try:
            return await asyncio.wait_for(awaitable, limit)
        except TimeoutError as exc:
            raise ImapError(f"IMAP {what} timed out after {limit:g}s") from exc
        except (AioImapException, OSError, ssl_module.SSLError) as exc:
            raise ImapError(f"IMAP {what} failed: {exc}") from exc

    async def _ok(self, what: str, awaitable: Awaitable[Any]) -> list[bytes]:
        """Run a command and insist on a tagged OK; return its response lines."""
        response = await self._run(what, awaitable)
        lines = _lines(response)
        if response.result != "OK":
            detail = b" ".join(lines).decode(errors="replace")
            raise ImapError(f"IMAP {what} answered {response.result}: {detail}")
        return lines

    async def connect(
        self,
        host: str,
        port: int,
        user: str,
        password: str,
        *,
        ssl: bool,
        timeout: float,  # noqa: ASYNC109 - per-command deadline, kept for the connection
        ssl_context: ssl_module.SSLContext | None = None,
    ) -> None:
        """Connect, wait for the greeting and log in; ImapError if any step fails.

        aioimaplib reports a rejected login as a ``NO`` response, not an exception, so the
        result is checked here; otherwise a wrong password would surface later as a
        confusing "command illegal in state NONAUTH".
        """
        self._timeout = timeout
        if ssl:
            self._client = IMAP4_SSL(host=host, port=port, timeout=timeout, ssl_context=ssl_context)
        else:
            self._client = IMAP4(host=host, port=port, timeout=timeout)
        try:
            await self._run("connect", self._client.wait_hello_from_server())
            await self._ok("LOGIN", self._client.login(user, password))
        except ImapError:
            self._drop()
            raise

    async def select(self, mailbox: str = "INBOX") -> SelectInfo:
        """SELECT a mailbox and report uidvalidity, message count and the next UID."""
        lines = await self._ok("SELECT", self._imap.select(mailbox))
        uidvalidity: int | None = None
        uidnext: int | None = None
        exists = 0
        for line in lines:
            if match := _UIDVALIDITY.search(line):
                uidvalidity = int(match.group(1))
            if match := _UIDNEXT.search(line):
                uidnext = int(match.group(1))
            if match := _EXISTS.match(line.strip()):
                exists = int(match.group(1))
        if uidvalidity is None:
            raise ImapError(f"SELECT {mailbox} gave no UIDVALIDITY")
        return SelectInfo(uidvalidity=uidvalidity, exists=exists, uidnext=uidnext)

    async def uids_after(self, last_uid: int) -> list[int]:
        """UIDs strictly greater than last_uid, ascending.

        ``UID SEARCH UID n:*`` always matches the highest UID, even when it is below n
        (``*`` means "the last message"), so the result is filtered rather than trusted.
        """
        lines = await self._ok(
            "UID SEARCH", self._imap.uid_search(f"UID {last_uid + 1}:*", charset=None)
        )
        uids: set[int] = set()
        for line in lines[:-1] if len(lines) > 1 else lines:
            words = line.split()
            if words and words[0].upper() == b"SEARCH":
                words = words[1:]
            if words and all(word.isdigit() for word in words):
                uids.update(int(word) for word in words)
        return sorted(uid for uid in uids if uid > last_uid)

    async def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        """How many bytes each message has (RFC822.SIZE), asked in one command before
        fetching any of them; a UID the server does not answer for is an error."""
        if not uids:
            return {}
        lines = await self._ok(
            "UID FETCH SIZE",
            self._imap.uid("fetch", ",".join(map(str, uids)), "(RFC822.SIZE UID)"),
        )
        found: dict[int, int] = {}
        for line in lines:
            if (
                _FETCH_LINE.match(line)
                and (size := _SIZE.search(line))
                and (uid := _FETCH_UID.search(line))
            ):
                found[int(uid.group(1))] = int(size.group(1))
        if missing := [uid for uid in uids if uid not in found]:
            raise ImapError(f"UID {missing[0]} not found")
        return {uid: found[uid] for uid in uids}

    async def fetch(self, uid: int, part: str = "BODY.PEEK[]") -> bytes:
        """The raw RFC 5322 bytes of one message (or of `part`, e.g. its header only with
        BODY.PEEK[HEADER]), without setting \\Seen."""
        response = await self._run("UID FETCH", self._imap.uid("fetch", str(uid), f"({part})"))
        if response.result != "OK":
            raise ImapError(f"UID FETCH {uid} answered {response.result}")
        lines = response.lines
        for index, line in enumerate(lines):
            # The literal follows the "n FETCH (... BODY[] {size}" line as a bytearray.
            if (
                isinstance(line, bytes)
                and _FETCH_LINE.match(line)
                and index + 1 < len(lines)
                and isinstance(lines[index + 1], bytearray)
            ):
                uid_match = _FETCH_UID.search(line)
                if uid_match is None or int(uid_match.group(1)) == uid:
                    return bytes(lines[index + 1])
        raise ImapError(f"UID {uid} not found")

    async def flags(self, uid: int) -> set[str]:
        """The flags of one message (e.g. ``{"\\Seen"}``); empty if it has none."""
        lines = await self._ok("UID FETCH FLAGS", self._imap.uid("fetch", str(uid), "(FLAGS)"))
        for line in lines:
            if _FETCH_LINE.match(line) and (match := _FLAGS.search(line)):
                uid_match = _FETCH_UID.search(line)
                if uid_match is None or int(uid_match.group(1)) == uid:
                    return set(match.group(1).decode().split())
        raise ImapError(f"UID {uid} not found")

    async def mark_seen(self, uids: Sequence[int]) -> None:
        """Set \\Seen once messages are safely stored, so mail clients show them as handled."""
        if uids:
            which = ",".join(map(str, uids))
            await self._ok("UID STORE", self._imap.uid("store", which, "+FLAGS.SILENT", r"(\Seen)"))

    def supports_idle(self) -> bool:
        """Whether the server announced IDLE; without it the poller falls back to polling."""
        return self._client is not None and bool(self._client.has_capability("IDLE"))

    async def idle_wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - IDLE duration
        """IDLE until the server announces new mail (EXISTS) or timeout seconds pass.

        Returns True if new mail was announced. The caller then runs uids_after(): the push
        carries a sequence number, not a UID. IDLE is always ended (DONE) and its task
        awaited, because aioimaplib cannot run another command while it is pending.
        """
        imap = self._imap
        timeout = min(timeout, MAX_IDLE_SECONDS)
        # aioimaplib's own stop timer would leave a stop marker in the push queue that a
        # later idle_wait would read; our deadline is enforced below instead.
        idle_task: asyncio.Future[Any] = await self._run(
            "IDLE", imap.idle_start(timeout=MAX_IDLE_SECONDS + 60.0)
        )
        announced = False
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while (remaining := deadline - loop.time()) > 0:
                try:
                    push = await imap.wait_server_push(timeout=remaining)
                except TimeoutError:
                    break
                if push == STOP_WAIT_SERVER_PUSH:
                    break
                if any(_EXISTS.match(bytes(line).strip()) for line in push):
                    announced = True
                    break
        finally:
            try:
                imap.idle_done()
            except (AioImapException, OSError, AttributeError) as exc:
                idle_task.cancel()
                raise ImapError(f"IMAP DONE failed: {exc}") from exc
            await self._run("IDLE end", idle_task)
        return announced

    async def close(self) -> None:
        """LOGOUT and drop the connection; never raises, so it is safe in finally blocks."""
        if self._client is None:
            return
        try:
            await asyncio.wait_for(self._client.logout(), min(self._timeout, 5.0))
        except Exception:
            pass  # closing must not mask the caller's error
        finally:
            self._drop()

    def _drop(self) -> None:
        """Close the transport without talking to the server."""
        client, self._client = self._client, None
        transport = getattr(getattr(client, "protocol", None), "transport", None)
        if transport is not None:
            with contextlib.suppress(Exception):  # best effort
                transport.close()

"""The IMAP poller: IDLE when the server can, polling otherwise, reconnecting after any error.

Each message is fetched without setting \\Seen, ingested and committed, flagged \\Seen,
then the cursor advances: a crash anywhere re-reads (the Message-ID makes that a no-op),
never loses. A message that keeps failing for a reason nobody foresaw is quarantined with
the error after a few tries, so one bad mail cannot stop the mailbox.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from handlers.email.imap_client import ImapError, ImapMailbox
from services.mailbox import MailboxState
from services.types import Channel

log = logging.getLogger(__name__)

IDLE_RENEW_SECONDS = 25 * 60  # servers may drop IDLE after 30 minutes (RFC 2177)
MAX_HANDLE_ATTEMPTS = 3  # then an unexpected failure on one mail quarantines it
BATCH = 64  # messages read and handed in together


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    user: str
    password: str
    ssl: bool = True
    mailbox: str = "INBOX"
    poll_interval: float = 30.0
    command_timeout: float = 30.0
    max_bytes: int = 25_000_000  # a larger message is not fetched: its header is quarantined


def mailbox_key(config: ImapConfig) -> str:
    """The name of one account's folder: its cursor, and the lease of the process reading it."""
    return f"{config.user}@{config.host}/{config.mailbox}"


class ImapPoller:
    def __init__(
        self,
        config: ImapConfig,
        state: MailboxState,
        handle: Callable[[bytes], Awaitable[object]],
        *,
        max_backoff: float = 60.0,
    ) -> None:
        self._config = config
        self._state = state
        self._handle = handle
        self._max_backoff = max_backoff
        self.connected = asyncio.Event()
        self._stopping = asyncio.Event()
        self._failures: dict[tuple[int, int], int] = {}  # (uidvalidity, uid) → failed tries

    def stop(self) -> None:
        """Finish the batch in hand, then return from `run` (cancelling mid-commit could
        leave a database connection holding its lock)."""
        self._stopping.set()

    @property
    def key(self) -> str:
        """The cursor's name: one per account and folder."""
        return mailbox_key(self._config)

    async def run(self) -> None:
        """Read mail until cancelled; network errors and BYE reconnect with backoff."""
        delay = 1.0
        while not self._stopping.is_set():
            mailbox = ImapMailbox()
            try:
                await self._session(mailbox)
            except (ImapError, OSError) as error:
                if self.connected.is_set():
                    delay = 1.0  # a working session dropped: reconnect soon, back off from there
                log.warning("IMAP %s: %s; reconnecting in %.0f s", self.key, error, delay)
            except Exception:  # e.g. the database is unreachable: nothing advanced, try again
                log.exception("IMAP %s: reading failed; retrying in %.0f s", self.key, delay)
            finally:
                self.connected.clear()
                await mailbox.close()
            await self._pause(asyncio.sleep(delay))
            delay = min(delay * 2, self._max_backoff)

    async def _session(self, mailbox: ImapMailbox) -> None:
        c = self._config
        await mailbox.connect(
            c.host, c.port, c.user, c.password, ssl=c.ssl, timeout=c.command_timeout
        )
        info = await mailbox.select(c.mailbox)
        self.connected.set()
        log.info(
            "IMAP %s connected (IDLE %s)", self.key, "yes" if mailbox.supports_idle() else "no"
        )
        while not self._stopping.is_set():
            await self.read_new(mailbox, info.uidvalidity)
            if mailbox.supports_idle():
                await self._pause(mailbox.idle_wait(min(c.poll_interval, IDLE_RENEW_SECONDS)))
            else:
                await self._pause(asyncio.sleep(c.poll_interval))

    async def _pause(self, wait: Coroutine[Any, Any, object]) -> None:
        """Wait for `wait` unless asked to stop first (then the wait is abandoned)."""
        waiting = asyncio.ensure_future(wait)
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiting, stopping):
            task.cancel()
        await asyncio.gather(waiting, stopping, return_exceptions=True)

    async def read_new(self, mailbox: ImapMailbox, uidvalidity: int) -> int:
        """Process every message after the cursor, in UID order; returns how many.

        In batches: the sizes asked in one command, the messages (up to EMAIL_MAX_BYTES in
        all) handed in side by side, so their database work is one group of the intake line
        and their texts one batch of the encoder; then flagged \\Seen and the cursor moved
        past them at once. A crash re-reads the batch, which the Message-ID makes a no-op.
        """
        cursor = await self._state.cursor(self.key, uidvalidity)
        uids = await mailbox.uids_after(cursor.last_uid)
        for start in range(0, len(uids), BATCH):
            if self._stopping.is_set():
                break
            sizes = await mailbox.sizes(uids[start : start + BATCH])
            while sizes:
                await self._read_batch(mailbox, uidvalidity, self._within_budget(sizes))
        return len(uids)

    def _within_budget(self, sizes: dict[int, int]) -> dict[int, int]:
        """The first messages of `sizes` (taken out of it) that are at most EMAIL_MAX_BYTES
        together, and at least one: a batch never holds more than one large message does."""
        batch: dict[int, int] = {}
        total = 0
        for uid, size in list(sizes.items()):
            if batch and total + size > self._config.max_bytes:
                break
            batch[uid] = sizes.pop(uid)
            total += size
        return batch

    async def _read_batch(
        self, mailbox: ImapMailbox, uidvalidity: int, sizes: dict[int, int]
    ) -> None:
        raws: dict[int, bytes] = {}
        for uid, size in sizes.items():
            if size > self._config.max_bytes:
                await self._too_large(mailbox, uid, size)
            else:
                raws[uid] = await mailbox.fetch(uid)
        taken = await asyncio.gather(
            *(self._take(raw, uidvalidity, uid) for uid, raw in raws.items()),
            return_exceptions=True,
        )
        failed = dict(zip(raws, taken, strict=True))
        done = list(itertools.takewhile(lambda uid: failed.get(uid) is None, sizes))
        if done:
            await mailbox.mark_seen(done)
            await self._state.advance(self.key, uidvalidity, done[-1])
        for error in taken:  # the first failure in UID order: the batch resumes from it
            if isinstance(error, BaseException):
                raise error

    async def _too_large(self, mailbox: ImapMailbox, uid: int, size: int) -> None:
        """A message over EMAIL_MAX_BYTES is not read into memory: its header (who sent it,
        when, about what) goes to quarantine with why; the message stays in the mailbox."""
        header = await mailbox.fetch(uid, "BODY.PEEK[HEADER]")
        reason = f"{size:,} bytes, more than EMAIL_MAX_BYTES ({self._config.max_bytes:,}): not read"
        log.warning("IMAP %s: UID %s quarantined: %s", self.key, uid, reason)
        await self._state.quarantine(source=Channel.EMAIL, raw=header, reason=reason)

    async def _take(self, raw: bytes, uidvalidity: int, uid: int) -> None:
        """Hand one message in; after repeated unexpected failures, quarantine it instead."""
        try:
            await self._handle(raw)
        except Exception as error:
            key = (uidvalidity, uid)
            self._failures[key] = tries = self._failures.get(key, 0) + 1
            if tries < MAX_HANDLE_ATTEMPTS:
                raise
            reason = f"could not be processed ({tries} tries): {type(error).__name__}: {error}"
            log.exception("IMAP %s: UID %s quarantined: %s", self.key, uid, reason)
            await self._state.quarantine(source=Channel.EMAIL, raw=raw, reason=reason[:500])
        self._failures.pop((uidvalidity, uid), None)

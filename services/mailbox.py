"""Mailbox state in the database: the read cursor and the quarantine of unreadable mail."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from storage.engine import SessionFactory
from storage.models import MailCursor, QuarantinedMessage, utcnow


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int
    last_uid: int


class MailboxState:
    """Exactly once = process and commit each message first, then advance the cursor.

    A crash in between re-reads that message; its Message-ID makes the second ingest a no-op.
    """

    def __init__(self, sessions: SessionFactory, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._clock = clock

    async def cursor(self, mailbox: str, uidvalidity: int) -> Cursor:
        """Where to resume; a new UIDVALIDITY voids the old UIDs, so reading starts over."""
        async with self._sessions() as session, session.begin():
            row = await session.get(MailCursor, mailbox)
            if row is None:
                row = MailCursor(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=0)
                session.add(row)
            elif row.uidvalidity != uidvalidity:
                row.uidvalidity, row.last_uid, row.updated_at = uidvalidity, 0, self._clock()
            return Cursor(uidvalidity=row.uidvalidity, last_uid=row.last_uid)

    async def advance(self, mailbox: str, uidvalidity: int, uid: int) -> None:
        """Record that `uid` is done (never moves backwards)."""
        async with self._sessions() as session, session.begin():
            row = await session.get(MailCursor, mailbox)
            if row is None or row.uidvalidity != uidvalidity:
                raise RuntimeError(f"cursor for {mailbox} changed under the poller")
            if uid > row.last_uid:
                row.last_uid, row.updated_at = uid, self._clock()

    async def quarantine(self, *, source: str, raw: bytes, reason: str) -> int:
        """Keep what could not be read, with why; agents see it with `/case quarantine`."""
        async with self._sessions() as session, session.begin():
            item = QuarantinedMessage(
                source=source, raw=raw, reason=reason[:500], received_at=self._clock()
            )
            session.add(item)
            await session.flush()
            assert item.id is not None
            return item.id

    async def quarantined(self, *, limit: int = 20) -> Sequence[QuarantinedMessage]:
        """The newest quarantined items."""
        async with self._sessions() as session:
            stmt = (
                select(QuarantinedMessage).order_by(col(QuarantinedMessage.id).desc()).limit(limit)
            )
            return (await session.exec(stmt)).all()

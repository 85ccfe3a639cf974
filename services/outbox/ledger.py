"""What the outbox runner records about its rows, one short transaction each: the claim, the
lease renewals, and how each delivery ended (done, deferred, failed, given up), with the
audit entries people read (a notification sent, a delivery given up)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.audit import audit
from services.outbox.plan import AUDITED_KINDS
from storage import outbox_queries
from storage.engine import SessionFactory
from storage.models import OutboxItem, OutboxStatus
from storage.outbox_queries import Lane

# A payload key set only in memory on a row whose previous holder died holding it.
REDELIVERY = "_redelivery"


def _ids(rows: Sequence[OutboxItem]) -> list[int]:
    return [row.id for row in rows if row.id is not None]


@dataclass(frozen=True)
class Ledger:
    sessions: SessionFactory
    clock: Callable[[], datetime]
    holder: str
    lease: timedelta

    async def claim(self, limit: int, lane: Lane | None = None) -> list[OutboxItem]:
        """The rows leased to us (of `lane`, or of all); one whose last holder died holding it
        carries REDELIVERY in its payload (in memory only), so its sender can look before
        saying it twice."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            rows, orphaned = await outbox_queries.claim(
                session, now, limit=limit, until=now + self.lease, holder=self.holder, lane=lane
            )
        return [
            row.model_copy(update={"payload": {**row.payload, REDELIVERY: True}})
            if row.id in orphaned
            else row
            for row in rows
        ]

    async def renew(self, ids: Sequence[int]) -> int:
        async with self.sessions() as session, session.begin():
            until = self.clock() + self.lease
            return await outbox_queries.renew(session, ids, holder=self.holder, until=until)

    async def release(self, ids: Sequence[int]) -> None:
        async with self.sessions() as session, session.begin():
            await outbox_queries.release(session, ids, holder=self.holder)

    async def done(self, rows: Sequence[OutboxItem]) -> None:
        async with self.sessions() as session, session.begin():
            await outbox_queries.mark_done(session, _ids(rows), at=self.clock())
            for row in rows:
                if row.kind in AUDITED_KINDS:
                    audit(
                        session,
                        row.case_id,
                        "notification.sent",
                        "casebot",
                        kind=row.kind,
                        outbox_id=row.id,
                    )

    async def deferred(
        self, rows: Sequence[OutboxItem], seconds: float, *, release: Sequence[OutboxItem]
    ) -> None:
        async with self.sessions() as session, session.begin():
            until = self.clock() + timedelta(seconds=seconds)
            await outbox_queries.postpone(session, _ids(rows), until=until)
            if release:
                await outbox_queries.unclaim(session, _ids(release))

    async def failed(
        self,
        row: OutboxItem,
        error: str,
        *,
        attempts: int,
        retry_in: timedelta,
        dead: bool,
        release: Sequence[OutboxItem],
    ) -> None:
        async with self.sessions() as session, session.begin():
            assert row.id is not None
            await outbox_queries.mark_failed(
                session,
                row.id,
                attempts=attempts,
                last_error=error,
                next_attempt_at=self.clock() + retry_in,
                status=OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
            )
            if release:
                await outbox_queries.unclaim(session, _ids(release))
            if dead:
                audit(
                    session,
                    row.case_id,
                    "delivery.dead",
                    "casebot",
                    outbox_id=row.id,
                    kind=row.kind,
                    error=error,
                )

    async def pending(self) -> int:
        async with self.sessions() as session:
            return await outbox_queries.count_pending(session)

    async def due(self) -> int:
        async with self.sessions() as session:
            return await outbox_queries.count_due(session, self.clock())

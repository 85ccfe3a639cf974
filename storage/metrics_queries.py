"""The database's totals for `/metrics`, read in one read-only session per scrape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, func, select

from storage import counters, ticket_queries
from storage.engine import SessionFactory
from storage.models import (
    Case,
    OutboxItem,
    OutboxStatus,
    SubmittedTicket,
    TicketIntakeStatus,
)


@dataclass
class Snapshot:
    """What the database said at the last scrape."""

    up: bool = False
    opened: int = 0
    closed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    escalations: dict[str, int] = field(default_factory=dict)
    outbox_pending: int = 0
    outbox_oldest_seconds: float = 0.0
    outbox_dead: int = 0
    tickets_waiting: int = 0  # POST /tickets not filed yet
    tickets_failed: int = 0


async def read_snapshot(sessions: SessionFactory, now: datetime) -> Snapshot:
    """Counts over cases, the event counters and the outbox, in one read-only session."""
    snap = Snapshot(up=True)
    async with sessions() as session:
        rows = await session.exec(select(Case.status, func.count()).group_by(Case.status))
        snap.by_status = {str(status): int(n) for status, n in rows.all()}
        snap.opened = sum(snap.by_status.values())
        # Running totals kept with the audit log (storage/counters.py): a few rows to read.
        counted = await counters.totals(session)
        snap.closed = counted.get(counters.CLOSED, 0)
        snap.escalations = {
            name.removeprefix(counters.ESCALATIONS): n
            for name, n in counted.items()
            if name.startswith(counters.ESCALATIONS)
        }
        pending = await session.exec(
            select(func.count(), func.min(OutboxItem.created_at)).where(
                col(OutboxItem.status) == OutboxStatus.PENDING
            )
        )
        count, oldest = pending.one()
        snap.outbox_pending = int(count)
        if oldest is not None:
            snap.outbox_oldest_seconds = max((now - oldest).total_seconds(), 0.0)
        dead = select(func.count()).where(col(OutboxItem.status) == OutboxStatus.DEAD)
        snap.outbox_dead = int((await session.exec(dead)).one())
        # Filed tickets are kept: count only the few others (an index seek on status).
        for statuses, attribute in (
            (ticket_queries.WAITING, "tickets_waiting"),
            ((TicketIntakeStatus.FAILED,), "tickets_failed"),
        ):
            stmt = select(func.count()).where(col(SubmittedTicket.status).in_(statuses))
            setattr(snap, attribute, int((await session.exec(stmt)).one()))
    return snap

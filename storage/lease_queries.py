"""Leases and shared event ids: atomic claims that several processes may race for.

Each claim is one `INSERT … ON CONFLICT DO UPDATE … WHERE` statement, so PostgreSQL and
SQLite decide the race in the database, not in Python.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Lease, ProcessedEvent
from storage.queries import is_postgres

INSTANCE = "instance:"  # the lease that says "this process is alive"


def instance_lease(holder: str) -> str:
    return f"{INSTANCE}{holder}"


def _insert(
    session: AsyncSession, table: type[Lease] | type[ProcessedEvent]
) -> postgresql.Insert | sqlite.Insert:
    """INSERT with ON CONFLICT for the session's database (both spell it the same way)."""
    return postgresql.insert(table) if is_postgres(session) else sqlite.insert(table)


async def claim(
    session: AsyncSession, name: str, holder: str, *, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew lease `name` for `holder` until now + ttl. True if `holder` has it now:
    it was free, expired, or already ours."""
    insert = _insert(session, Lease).values(
        name=name, holder=holder, expires_at=now + ttl, acquired_at=now
    )
    stmt = insert.on_conflict_do_update(
        index_elements=["name"],
        set_={
            "holder": insert.excluded.holder,
            "expires_at": insert.excluded.expires_at,
            # a renewal keeps the time the lease was first taken
            "acquired_at": case(
                (col(Lease.holder) == holder, col(Lease.acquired_at)),
                else_=insert.excluded.acquired_at,
            ),
        },
        where=(col(Lease.holder) == holder) | (col(Lease.expires_at) <= now),
    ).returning(col(Lease.holder))
    return (await session.exec(stmt)).scalar_one_or_none() == holder


async def release(session: AsyncSession, name: str, holder: str) -> None:
    """Give `name` back at once, if `holder` still has it."""
    await session.exec(delete(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder))


async def holder_of(session: AsyncSession, name: str, *, now: datetime) -> str | None:
    """Who holds `name` now (None when free or expired)."""
    stmt = select(Lease).where(col(Lease.name) == name, col(Lease.expires_at) > now)
    lease = (await session.exec(stmt)).first()
    return lease.holder if lease is not None else None


async def take_event(session: AsyncSession, event_id: str, holder: str, *, now: datetime) -> bool:
    """Record that `holder` handles Slack event `event_id`. False when another process that
    is still alive already took it (a redelivery); a dead process's event is taken over."""
    alive = core_select(col(Lease.holder)).where(
        col(Lease.name).startswith(INSTANCE), col(Lease.expires_at) > now
    )
    insert = _insert(session, ProcessedEvent).values(
        event_id=event_id, holder=holder, received_at=now
    )
    stmt = insert.on_conflict_do_update(
        index_elements=["event_id"],
        set_={"holder": insert.excluded.holder, "received_at": insert.excluded.received_at},
        where=col(ProcessedEvent.holder).not_in(alive),
    ).returning(col(ProcessedEvent.holder))
    return (await session.exec(stmt)).scalar_one_or_none() == holder


async def forget_events(session: AsyncSession, before: datetime) -> int:
    """Drop event ids older than `before` (Slack redelivers within minutes, not days)."""
    result = await session.exec(
        delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < before)
    )
    return int(result.rowcount or 0)


async def forget_expired(session: AsyncSession, before: datetime) -> int:
    """Drop leases that expired before `before` (dead processes' heartbeats)."""
    result = await session.exec(delete(Lease).where(col(Lease.expires_at) < before))
    return int(result.rowcount or 0)

"""The outbox's SQL: claim due rows under a lease, renew, release and settle them.

Claims are serialised across processes (a transaction advisory lock on PostgreSQL; SQLite's
write lock does the same), so two processes never hold rows of one ordering key at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, text
from sqlalchemy.orm import aliased
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxItem, OutboxStatus
from storage.queries import is_postgres

# One key for every process's claim transaction (pg_advisory_xact_lock takes a bigint).
CLAIM_LOCK = 0x0CA5EB07


@dataclass(frozen=True)
class Lane:
    """The rows one claim loop takes: those going out on `channels`, or, with `others`, on
    every other channel. Lanes let a paced channel (Slack's one post per second) wait without
    holding back the rows of a fast one (an acknowledgement by mail)."""

    name: str
    channels: frozenset[str]
    others: bool = False
    at_once: int | None = None  # keys delivered side by side in a pass at most (None: all)

    def holds(self, item: type[OutboxItem]) -> ColumnElement[bool]:
        on = col(item.channel).in_(sorted(self.channels))
        return ~on if self.others else on


async def claim(
    session: AsyncSession,
    now: datetime,
    *,
    limit: int,
    until: datetime,
    holder: str,
    lane: Lane | None = None,
) -> tuple[list[OutboxItem], set[int]]:
    """Lease up to `limit` due rows (of `lane`, or of every lane) in id order (a key's rows
    in order, see `due`); and the ids of those still leased by a holder whose lease ran out
    with no outcome recorded (every outcome clears the holder): that process died, maybe
    after delivering."""
    await _hold_claims(session)
    stmt = select(OutboxItem).where(due(now, lane)).order_by(col(OutboxItem.id)).limit(limit)
    rows = list((await session.exec(stmt)).all())
    orphaned = {row.id for row in rows if row.id is not None and row.claimed_by is not None}
    if rows:
        await session.exec(
            update(OutboxItem)
            .where(col(OutboxItem.id).in_([row.id for row in rows]))
            .values(claimed_until=until, claimed_by=holder)
        )
    return rows, orphaned


async def _hold_claims(session: AsyncSession) -> None:
    """Claims wait for this transaction (PostgreSQL; SQLite has one writer anyway): a claim
    reads due rows, then leases them, and nothing may change them in between."""
    if is_postgres(session):
        await session.exec(text(f"SELECT pg_advisory_xact_lock({CLAIM_LOCK})"))  # type: ignore[call-overload]


async def of_message(session: AsyncSession, message_id: int) -> list[OutboxItem]:
    """The deliveries of one message (an agent's reply: one per customer it reaches), with
    claims held off until the caller's transaction ends, so that what it decides about them
    (withdraw, edit) cannot cross a claim."""
    await _hold_claims(session)
    stmt = (
        select(OutboxItem)
        .where(col(OutboxItem.message_id) == message_id)
        .order_by(col(OutboxItem.id))
    )
    return list((await session.exec(stmt)).all())


async def cancel(session: AsyncSession, ids: Iterable[int]) -> None:
    await session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.id).in_(list(ids)))
        .values(status=OutboxStatus.CANCELLED, claimed_until=None, claimed_by=None)
    )


async def renew(session: AsyncSession, ids: Iterable[int], *, holder: str, until: datetime) -> int:
    """Extend the leases `holder` still has on `ids`; returns how many it has."""
    result = await session.exec(
        update(OutboxItem)
        .where(
            col(OutboxItem.id).in_(list(ids)),
            col(OutboxItem.claimed_by) == holder,
            col(OutboxItem.status) == OutboxStatus.PENDING,
        )
        .values(claimed_until=until)
    )
    return int(result.rowcount or 0)


async def release(session: AsyncSession, ids: Iterable[int], *, holder: str) -> None:
    """Give back the leases `holder` has on pending `ids` (an orderly stop)."""
    await session.exec(
        update(OutboxItem)
        .where(
            col(OutboxItem.id).in_(list(ids)),
            col(OutboxItem.status) == OutboxStatus.PENDING,
            col(OutboxItem.claimed_by) == holder,
        )
        .values(claimed_until=None, claimed_by=None)
    )


async def unclaim(session: AsyncSession, ids: Iterable[int]) -> None:
    """Give rows back for the next pass as they were (no attempt counted, no backoff)."""
    await session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.id).in_(list(ids)))
        .values(claimed_until=None, claimed_by=None)
    )


async def mark_done(session: AsyncSession, ids: Iterable[int], *, at: datetime) -> None:
    await session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.id).in_(list(ids)))
        .values(status=OutboxStatus.DONE, delivered_at=at, claimed_until=None, claimed_by=None)
    )


async def postpone(session: AsyncSession, ids: Iterable[int], *, until: datetime) -> None:
    """Not now, later: the rows wait until `until`; no failed attempt is counted."""
    await session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.id).in_(list(ids)))
        .values(next_attempt_at=until, claimed_until=None, claimed_by=None)
    )


async def mark_failed(session: AsyncSession, item_id: int, **values: Any) -> None:
    """Record a failed attempt (`attempts`, `last_error`, `next_attempt_at`, `status`)."""
    await session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id)
        .values(claimed_until=None, claimed_by=None, **values)
    )


async def count_pending(session: AsyncSession) -> int:
    stmt = select(func.count()).where(OutboxItem.status == OutboxStatus.PENDING)
    return int((await session.exec(stmt)).one())


async def count_due(session: AsyncSession, now: datetime) -> int:
    return int((await session.exec(select(func.count()).where(due(now)))).one())


def due(now: datetime, lane: Lane | None = None) -> ColumnElement[bool]:
    """A pending row that is not waiting, and whose key has no earlier row still waiting
    (leased elsewhere or backing off): rows of one key go in id order. In a lane, an earlier
    row of the key in another lane holds the row back too, until that lane has delivered it."""
    earlier = aliased(OutboxItem)
    blocking = (
        _waiting(earlier, now)
        if lane is None
        else or_(_waiting(earlier, now), ~lane.holds(earlier))
    )
    return and_(
        col(OutboxItem.status) == OutboxStatus.PENDING,
        ~_waiting(OutboxItem, now),
        *([] if lane is None else [lane.holds(OutboxItem)]),
        ~exists().where(
            col(earlier.ordering_key) == col(OutboxItem.ordering_key),
            col(earlier.status) == OutboxStatus.PENDING,
            col(earlier.id) < col(OutboxItem.id),
            blocking,
        ),
    )


def _waiting(item: type[OutboxItem], now: datetime) -> ColumnElement[bool]:
    """The row is not due: another process holds it, or it backs off after a failure."""
    return or_(
        and_(col(item.claimed_until).is_not(None), col(item.claimed_until) > now),
        and_(col(item.next_attempt_at).is_not(None), col(item.next_attempt_at) > now),
    )

"""Tickets posted to `POST /tickets`: claimed one at a time by whichever process gets there
first, and the reads behind the compatibility endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxItem, SubmittedTicket, TicketIntakeStatus

WAITING = (TicketIntakeStatus.PENDING, TicketIntakeStatus.PROCESSING)


def _due(now: datetime) -> ColumnElement[bool]:
    """Not filed yet and held by no one: new, backing off past its time, or a dead worker's."""
    return col(SubmittedTicket.status).in_(WAITING) & or_(
        col(SubmittedTicket.held_until).is_(None), col(SubmittedTicket.held_until) <= now
    )


async def due(session: AsyncSession, now: datetime, *, limit: int) -> Sequence[SubmittedTicket]:
    """The oldest due tickets."""
    stmt = (
        select(SubmittedTicket)
        .where(_due(now))
        .order_by(col(SubmittedTicket.created_at), col(SubmittedTicket.id))
        .limit(limit)
    )
    return (await session.exec(stmt)).all()


async def hold_all(
    session: AsyncSession, ids: Sequence[str], now: datetime, until: datetime, holder: str
) -> Sequence[SubmittedTicket]:
    """Take those of the tickets still due (compare and set: each goes to one process), and
    return them as taken, oldest first."""
    if not ids:
        return []
    await session.exec(
        update(SubmittedTicket)
        .where(col(SubmittedTicket.id).in_(ids), _due(now))
        .values(
            status=TicketIntakeStatus.PROCESSING,
            held_until=until,
            held_by=holder,
            attempts=SubmittedTicket.attempts + 1,
        )
    )
    stmt = (
        select(SubmittedTicket)
        .where(
            col(SubmittedTicket.id).in_(ids),
            col(SubmittedTicket.held_by) == holder,
            col(SubmittedTicket.held_until) == until,
        )
        .order_by(col(SubmittedTicket.created_at), col(SubmittedTicket.id))
    )
    return (await session.exec(stmt)).all()


async def settle(session: AsyncSession, ticket_id: str, holder: str, **values: Any) -> bool:
    """Record the outcome, unless the lease passed to someone else meanwhile."""
    result = await session.exec(
        update(SubmittedTicket)
        .where(col(SubmittedTicket.id) == ticket_id, col(SubmittedTicket.held_by) == holder)
        .values(**values)
    )
    return bool(result.rowcount)


async def submitted_ids(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, str]:
    """The submitted ticket each of these cases was filed from, when there is one."""
    if not case_ids:
        return {}
    stmt = select(SubmittedTicket.case_id, SubmittedTicket.id).where(
        col(SubmittedTicket.case_id).in_(case_ids)
    )
    return {case_id: tid for case_id, tid in (await session.exec(stmt)).all() if case_id}


async def deliveries_of(session: AsyncSession, case_id: int) -> Sequence[OutboxItem]:
    """Everything sent, or to be sent, about a case, oldest first."""
    stmt = select(OutboxItem).where(OutboxItem.case_id == case_id).order_by(col(OutboxItem.id))
    return (await session.exec(stmt)).all()

"""What the follow-up sweep reads: resolved cases due to close, and cases whose customer has
not answered an agent for a while. Each batch is locked on PostgreSQL (skip locked), so
several processes never act on one case twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, CaseStatus, Direction, Message
from storage.queries import ACTIVE, is_postgres


async def due_to_close(session: AsyncSession, cutoff: datetime, *, limit: int) -> Sequence[Case]:
    """Resolved cases resolved at or before `cutoff`, oldest first."""
    stmt = (
        select(Case)
        .where(col(Case.status) == CaseStatus.RESOLVED, col(Case.resolved_at) <= cutoff)
        .order_by(col(Case.resolved_at))
        .limit(limit)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return (await session.exec(stmt)).all()


async def waiting_on_customer(
    session: AsyncSession, cutoff: datetime, *, limit: int
) -> Sequence[Case]:
    """Active cases whose last word is an agent's, at or before `cutoff`, that the nudge rule
    has not looked at since that word."""
    stmt = (
        select(Case)
        .where(
            col(Case.status).in_(ACTIVE),
            col(Case.last_agent_message_at) <= cutoff,
            or_(
                col(Case.last_customer_message_at).is_(None),
                col(Case.last_customer_message_at) < col(Case.last_agent_message_at),
            ),
            or_(
                col(Case.nudge_checked_at).is_(None),
                col(Case.nudge_checked_at) < col(Case.last_agent_message_at),
            ),
        )
        .order_by(col(Case.last_agent_message_at))
        .limit(limit)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return (await session.exec(stmt)).all()


async def last_reply(session: AsyncSession, case_id: int) -> Message | None:
    """The case's newest agent reply relayed to the customer (notes are never relayed)."""
    stmt = (
        select(Message)
        .where(
            col(Message.case_id) == case_id,
            col(Message.direction) == Direction.OUTBOUND,
            col(Message.deleted_at).is_(None),  # a reply withdrawn in its undo window
        )
        .order_by(col(Message.id).desc())
        .limit(1)
    )
    return (await session.exec(stmt)).first()

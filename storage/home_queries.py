"""Reads behind an agent's App Home: their cases, SLAs about to break, today's numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent, Case, Direction, Message, Rating
from storage.queries import ACTIVE

EDITED_AT_MOST = 0.2  # a suggested reply sent with at most a fifth changed counts as drafted


async def sla_due_before(session: AsyncSession, until: datetime, *, limit: int) -> Sequence[Case]:
    """Unanswered active cases whose first answer is due before `until` (breached ones too),
    soonest first."""
    stmt = (
        select(Case)
        .where(
            col(Case.status).in_(ACTIVE),
            col(Case.master_id).is_(None),
            col(Case.last_agent_message_at).is_(None),
            col(Case.sla_due_at) <= until,
        )
        .order_by(col(Case.sla_due_at).asc(), col(Case.id).asc())
        .limit(limit)
    )
    return (await session.exec(stmt)).all()


async def opened_since(session: AsyncSession, since: datetime) -> int:
    stmt = select(func.count()).select_from(Case).where(col(Case.created_at) >= since)
    return int((await session.exec(stmt)).one())


async def resolved_since(session: AsyncSession, since: datetime) -> int:
    stmt = select(func.count()).select_from(Case).where(col(Case.resolved_at) >= since)
    return int((await session.exec(stmt)).one())


async def ratings_since(session: AsyncSession, since: datetime) -> tuple[float | None, int]:
    """The customers' average rating given since `since`, and how many (ix_ratings_rated_at)."""
    stmt = select(func.avg(Rating.score), func.count()).where(col(Rating.rated_at) >= since)
    average, count = (await session.exec(stmt)).one()
    return (float(average) if average is not None else None), int(count)


async def first_responses_since(session: AsyncSession, since: datetime) -> list[timedelta]:
    """For each case first answered (a reply the customer got) after `since`: how long that
    first answer took. Only cases answered since then are grouped, not the whole history."""
    outbound = Message.direction == Direction.OUTBOUND
    recent = select(Message.case_id).where(outbound, col(Message.created_at) >= since)
    first = func.min(Message.created_at)
    stmt = (
        select(Case.created_at, first)
        .join(Message, col(Message.case_id) == col(Case.id))
        .where(outbound, col(Case.id).in_(recent))
        .group_by(col(Case.id), col(Case.created_at))
        .having(first >= since)
    )
    rows = (await session.exec(stmt)).all()
    return [answered - opened for opened, answered in rows]


async def suggestions_since(session: AsyncSession, since: datetime) -> tuple[int, int, int]:
    """Suggested replies decided since `since`: (sent as drafted, sent edited, discarded); a
    draft counts as edited when more than a fifth of it changed."""
    stmt = select(AuditEvent.action, AuditEvent.data).where(
        col(AuditEvent.action).in_(("suggestion.sent", "suggestion.discarded")),
        col(AuditEvent.created_at) >= since,
    )
    drafted = edited = discarded = 0
    for action, data in (await session.exec(stmt)).all():
        if action == "suggestion.discarded":
            discarded += 1
        elif (data or {}).get("edited") is not None and data["edited"] <= EDITED_AT_MOST:
            drafted += 1
        else:
            edited += 1
    return drafted, edited, discarded

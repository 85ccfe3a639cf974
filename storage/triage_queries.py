"""Queries for triage's learning: the labelled examples."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, CaseStatus, Direction, LabelledExample, Message


async def labelled_examples(session: AsyncSession) -> Sequence[LabelledExample]:
    """Every labelled example, oldest first."""
    stmt = select(LabelledExample).order_by(col(LabelledExample.id))
    return (await session.exec(stmt)).all()


async def cases_to_retriage(
    session: AsyncSession, *, after_id: int, limit: int
) -> Sequence[tuple[Case, str]]:
    """Open or assigned cases after `after_id` whose type no agent set, with their first text."""
    first = (
        select(func.min(Message.id))
        .where(Message.case_id == Case.id, Message.direction == Direction.INBOUND)
        .correlate(Case)
        .scalar_subquery()
    )
    stmt = (
        select(Case, Message.body)
        .join(Message, col(Message.id) == first)
        .where(
            col(Case.id) > after_id,
            col(Case.status).in_((CaseStatus.OPEN, CaseStatus.ASSIGNED)),
            or_(col(Case.triage_source).is_(None), col(Case.triage_source) != "agent"),
        )
        .order_by(col(Case.id))
        .limit(limit)
    )
    return [(case, body) for case, body in (await session.exec(stmt)).all()]


async def examples_signature(session: AsyncSession) -> tuple[int, int]:
    """(count, highest id) of the labelled examples: changes whenever one is added or
    replaced, so that other processes know to refit."""
    stmt = select(func.count(), func.max(LabelledExample.id)).select_from(LabelledExample)
    count, highest = (await session.exec(stmt)).one()
    return int(count), int(highest or 0)

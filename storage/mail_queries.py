"""Queries for the email channel: our sent Message-IDs, the hourly cap, due reminders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, Direction, Message, SentEmail
from storage.queries import ACTIVE, is_postgres

MAX_IDS = 100  # a References header longer than this is cut: the newest ids matter most


async def case_of_sent_email(session: AsyncSession, message_ids: Sequence[str]) -> int | None:
    """The case of the newest mail we sent among `message_ids`."""
    stmt = (
        select(SentEmail.case_id)
        .where(col(SentEmail.message_id).in_(list(message_ids)[-MAX_IDS:]))
        .order_by(col(SentEmail.sent_at).desc())
        .limit(1)
    )
    return (await session.exec(stmt)).first()


async def sent_email(session: AsyncSession, message_id: str) -> SentEmail | None:
    return await session.get(SentEmail, message_id)


async def automatic_sent_since(
    session: AsyncSession,
    since: datetime,
    *,
    capped_as: str | None = None,
    domain: str | None = None,
) -> int:
    """How many automatic mails went out from `since` on: to one address (as capped), to one
    domain, or (neither given) to anyone."""
    stmt = select(func.count()).where(
        col(SentEmail.automatic).is_(True), SentEmail.sent_at >= since
    )
    if capped_as is not None:
        stmt = stmt.where(SentEmail.capped_as == capped_as)
    if domain is not None:
        stmt = stmt.where(SentEmail.domain == domain)
    return int((await session.exec(stmt)).one())


async def thread_ids(session: AsyncSession, case_id: int, source: str) -> list[tuple[str, bool]]:
    """Every Message-ID of a case's mail thread, oldest first, each with "is it ours"."""
    theirs = await session.exec(
        select(Message.external_id, Message.created_at).where(
            Message.case_id == case_id,
            Message.source == source,
            Message.direction == Direction.INBOUND,
        )
    )
    ours = await session.exec(
        select(SentEmail.message_id, SentEmail.sent_at).where(SentEmail.case_id == case_id)
    )
    dated = [(at, mid, False) for mid, at in theirs.all() if mid]
    dated += [(at, mid, True) for mid, at in ours.all()]
    return [(mid, mine) for _, mid, mine in sorted(dated)]


async def due_for_reminder(
    session: AsyncSession, cutoff: datetime, *, limit: int
) -> Sequence[Case]:
    """Active cases opened before `cutoff` that have not had their reminder yet."""
    stmt = (
        select(Case)
        .where(
            col(Case.status).in_(ACTIVE),
            col(Case.reminder_sent_at).is_(None),
            col(Case.created_at) <= cutoff,
        )
        .order_by(col(Case.created_at))
        .limit(limit)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return (await session.exec(stmt)).all()

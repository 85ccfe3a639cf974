"""Reads for reports: the cases a report lists, page by page, and reports by key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, CaseStatus, Customer, OutboxItem, OutboxStatus, Rating, Report

ACTIVE = (CaseStatus.OPEN, CaseStatus.ASSIGNED)


def _listed(since: datetime) -> ColumnElement[bool]:
    """Active cases, and those resolved or closed at or after `since`."""
    return or_(
        col(Case.status).in_(ACTIVE),
        and_(col(Case.status) == CaseStatus.RESOLVED, col(Case.resolved_at) >= since),
        and_(col(Case.status) == CaseStatus.CLOSED, col(Case.closed_at) >= since),
    )


async def count_report_cases(session: AsyncSession, since: datetime) -> int:
    """How many cases a report from `since` lists."""
    stmt = select(func.count()).select_from(Case).where(_listed(since))
    return int((await session.exec(stmt)).one())


async def report_case_ids(session: AsyncSession, since: datetime) -> list[int]:
    """The numbers of the cases a report from `since` lists, ascending.

    Read first, on their own, so that the cases are then fetched by primary key a page at a
    time: a page query that filtered on the statuses itself made SQLite OR three status
    index searches and sort them all again for every page (100,000 cases: 13 s, growing
    with the square of the count)."""
    stmt = select(Case.id).where(_listed(since)).order_by(col(Case.id))
    return [int(number) for number in (await session.exec(stmt)).all() if number is not None]


async def cases_with_customers(
    session: AsyncSession, numbers: Sequence[int]
) -> Sequence[tuple[Case, Customer, Rating | None]]:
    """These cases with their customers and customers' ratings (if any), by number."""
    stmt = (
        select(Case, Customer, Rating)
        .join(Customer, col(Customer.id) == col(Case.customer_id))
        .outerjoin(Rating, col(Rating.case_id) == col(Case.id))
        .where(col(Case.id).in_(numbers))
        .order_by(col(Case.id))
    )
    return (await session.exec(stmt)).all()


async def report_by_key(session: AsyncSession, key: str) -> Report | None:
    """The report recorded under `key`, if any."""
    return (await session.exec(select(Report).where(Report.key == key))).first()


REPORT_DELIVERIES = ("report.email", "report.upload")  # services.outbox.REPORT_KINDS
PRUNE_BATCH = 500


async def prune_reports(session: AsyncSession, *, before: datetime) -> int:
    """Delete up to PRUNE_BATCH reports made before `before` that no pending delivery needs."""
    pending = await session.exec(
        select(OutboxItem.payload).where(
            col(OutboxItem.kind).in_(REPORT_DELIVERIES),
            col(OutboxItem.status) == OutboxStatus.PENDING,
        )
    )
    waiting = {int(payload["report_id"]) for payload in pending.all() if "report_id" in payload}
    old = await session.exec(
        select(Report.id)
        .where(col(Report.created_at) < before)
        .order_by(col(Report.id))
        .limit(PRUNE_BATCH)
    )
    doomed = [report_id for report_id in old.all() if report_id not in waiting]
    if doomed:
        await session.exec(delete(Report).where(col(Report.id).in_(doomed)))
    return len(doomed)

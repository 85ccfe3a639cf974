"""Reads behind the HTTP API: pages of cases, a case's audit trail, counts for statistics."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent, Case, CaseStatus, Customer
from storage.queries import ACTIVE


async def customer_cases(
    session: AsyncSession, customer_id: int, *, limit: int, offset: int
) -> Sequence[Case]:
    """One customer's cases, newest first, one page."""
    stmt = (
        select(Case)
        .where(Case.customer_id == customer_id)
        .order_by(col(Case.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return (await session.exec(stmt)).all()


async def cases_numbered(session: AsyncSession, numbers: Collection[int]) -> Sequence[Case]:
    """These cases, in one query."""
    return (await session.exec(select(Case).where(col(Case.id).in_(numbers)))).all()


async def number_by_public_id(session: AsyncSession, public_id: str) -> int | None:
    """The case number of the case with this UUID (the incident service's incident_id)."""
    return (await session.exec(select(Case.id).where(Case.public_id == public_id))).first()


async def customer_by_phone(session: AsyncSession, phone: str) -> Customer | None:
    """The customer whose webhook/API id this is."""
    return (await session.exec(select(Customer).where(Customer.phone == phone))).first()


async def audit_of(session: AsyncSession, case_id: int) -> Sequence[AuditEvent]:
    """A case's audit trail, oldest first."""
    stmt = select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(col(AuditEvent.id))
    return (await session.exec(stmt)).all()


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """Every status, with 0 for the ones no case is in."""
    counts = dict.fromkeys((status.value for status in CaseStatus), 0)
    stmt = select(Case.status, func.count()).group_by(Case.status)
    for status, n in (await session.exec(stmt)).all():
        counts[CaseStatus(status).value] = int(n)
    return counts


async def count_by_category(session: AsyncSession) -> dict[str, int]:
    stmt = select(Case.category, func.count()).group_by(Case.category)
    return {category or "uncategorised": int(n) for category, n in (await session.exec(stmt)).all()}


async def count_escalated(session: AsyncSession) -> int:
    """Active cases escalated at least once."""
    stmt = (
        select(func.count())
        .select_from(Case)
        .where(col(Case.status).in_(ACTIVE), col(Case.escalation_level) > 0)
    )
    return int((await session.exec(stmt)).one())

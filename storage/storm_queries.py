"""Queries for storm folding: open masters, recent embeddings, a master's children."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, CaseEmbedding, Customer
from storage.queries import ACTIVE

INCIDENT_CUSTOMER = "(incident)"


async def open_masters(session: AsyncSession) -> Sequence[Case]:
    stmt = select(Case).where(col(Case.is_master).is_(True), col(Case.status).in_(ACTIVE))
    return (await session.exec(stmt)).all()


async def embeddings(session: AsyncSession, case_ids: Sequence[int]) -> list[tuple[int, bytes]]:
    if not case_ids:
        return []
    stmt = select(CaseEmbedding.case_id, CaseEmbedding.vector).where(
        col(CaseEmbedding.case_id).in_(case_ids)
    )
    return [(cid, vector) for cid, vector in (await session.exec(stmt)).all()]


async def recent_children_embeddings(
    session: AsyncSession, master_ids: Sequence[int], since: datetime, *, limit: int
) -> list[tuple[int, int, bytes]]:
    """(master id, child id, vector) of the newest children of these masters since `since`:
    a storm drifts (other order numbers, other words) away from its first report."""
    if not master_ids:
        return []
    stmt = (
        select(Case.master_id, CaseEmbedding.case_id, CaseEmbedding.vector)
        .join(Case, col(Case.id) == col(CaseEmbedding.case_id))
        .where(col(Case.master_id).in_(master_ids), col(CaseEmbedding.created_at) >= since)
        .order_by(col(CaseEmbedding.case_id).desc())
        .limit(limit)
    )
    return [(int(mid or 0), cid, vector) for mid, cid, vector in (await session.exec(stmt)).all()]


async def recent_open_embeddings(
    session: AsyncSession, since: datetime, *, exclude: int
) -> list[tuple[int, bytes]]:
    """Embeddings of open, unfolded, non-master cases created since `since`."""
    stmt = (
        select(CaseEmbedding.case_id, CaseEmbedding.vector)
        .join(Case, col(Case.id) == col(CaseEmbedding.case_id))
        .where(
            col(CaseEmbedding.created_at) >= since,
            col(Case.status).in_(ACTIVE),
            col(Case.master_id).is_(None),
            col(Case.is_master).is_(False),
            col(Case.id) != exclude,
        )
        .order_by(col(CaseEmbedding.case_id))
    )
    return [(cid, vector) for cid, vector in (await session.exec(stmt)).all()]


async def incident_customer(session: AsyncSession) -> Customer | None:
    """The placeholder customer that master incidents belong to."""
    stmt = select(Customer).where(
        Customer.name == INCIDENT_CUSTOMER,
        col(Customer.slack_user_id).is_(None),
        col(Customer.email).is_(None),
        col(Customer.phone).is_(None),
    )
    return (await session.exec(stmt)).first()


async def children(session: AsyncSession, master_id: int, *, lock: bool = False) -> Sequence[Case]:
    stmt = select(Case).where(Case.master_id == master_id).order_by(col(Case.id))
    if lock:
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).all()


async def affected(session: AsyncSession, master_id: int) -> Sequence[Customer]:
    """The customers of a master's children, in the order they wrote."""
    stmt = (
        select(Customer)
        .join(Case, col(Case.customer_id) == col(Customer.id))
        .where(Case.master_id == master_id)
        .order_by(col(Case.id))
    )
    return (await session.exec(stmt)).all()

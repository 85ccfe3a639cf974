"""Queries for routing: agents' profiles and how many open cases each holds."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Agent, Case
from storage.queries import ACTIVE


async def active_agents(session: AsyncSession) -> Sequence[Agent]:
    stmt = select(Agent).where(col(Agent.active).is_(True)).order_by(col(Agent.user_id))
    return (await session.exec(stmt)).all()


async def open_case_loads(session: AsyncSession) -> dict[str, int]:
    """Assignee → number of open or assigned cases they hold."""
    rows = await session.exec(
        select(Case.assignee, func.count())
        .where(col(Case.status).in_(ACTIVE), col(Case.assignee).is_not(None))
        .group_by(col(Case.assignee))
    )
    return {str(assignee): int(n) for assignee, n in rows.all()}

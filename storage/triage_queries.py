"""Queries for triage's learning: the labelled examples."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import LabelledExample


async def labelled_examples(session: AsyncSession) -> Sequence[LabelledExample]:
    """Every labelled example, oldest first."""
    stmt = select(LabelledExample).order_by(col(LabelledExample.id))
    return (await session.exec(stmt)).all()

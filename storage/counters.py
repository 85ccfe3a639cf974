"""Counting audited events as they are written: whenever a session flushes audit rows that
count (a case closed, an escalation by reason), the totals in `event_counters` are raised in
the same transaction, so they can never disagree with the audit log.

A SQLAlchemy `after_flush` hook does it for every session, whoever audits; each increment is
an upsert on one of SHARDS rows picked at random, so that concurrent transactions seldom
wait on the same row.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent, EventCounter

SHARDS = 8
CLOSED = "cases.closed"
ESCALATIONS = "escalations:"  # + the reason


def counted(row: AuditEvent) -> str | None:
    """The counter an audit row raises, if any."""
    if row.action == "case.closed":
        return CLOSED
    if row.action == "case.escalated":
        return ESCALATIONS + str((row.data or {}).get("reason", ""))
    return None


@event.listens_for(Session, "after_flush")
def _count(session: Session, _context: Any) -> None:
    deltas = Counter(
        name for row in session.new if isinstance(row, AuditEvent) and (name := counted(row))
    )
    if not deltas:
        return
    connection = session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    table = EventCounter.__table__  # type: ignore[attr-defined]
    for name, n in sorted(deltas.items()):  # one order everywhere: no deadlock between shards
        stmt = insert(table).values(name=name, shard=random.randrange(SHARDS), value=n)
        connection.execute(
            stmt.on_conflict_do_update(
                index_elements=["name", "shard"], set_={"value": table.c.value + n}
            )
        )


async def totals(session: AsyncSession) -> dict[str, int]:
    """Every counter's total (a few rows whatever the audit log's size)."""
    rows = await session.exec(
        select(EventCounter.name, func.sum(EventCounter.value)).group_by(col(EventCounter.name))  # type: ignore[call-overload]
    )
    return {str(name): int(value) for name, value in rows.all()}

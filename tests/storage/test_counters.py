"""The event counters /metrics reads agree with the audit log they count, whoever audits,
concurrently too, and are carried over from an audit log written before they existed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, text
from sqlmodel import select

from services.audit import audit
from storage import counters
from storage.engine import SessionFactory, create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import AuditEvent, Case, EventCounter
from tests.db import database_url, insert_as_of

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


async def totals(sessions: SessionFactory) -> dict[str, int]:
    async with sessions() as session:
        return await counters.totals(session)


async def test_counters_follow_the_audit_log_even_concurrently(sessions: SessionFactory) -> None:
    async def escalate(reason: str) -> None:
        async with sessions() as session, session.begin():
            audit(session, None, "case.escalated", "rules", reason=reason)
            audit(session, None, "message.received", "customer")  # not counted

    await asyncio.gather(*(escalate("urgency" if n % 3 else "sla") for n in range(30)))
    async with sessions() as session, session.begin():
        audit(session, None, "case.closed", "agnes")
    async with sessions() as session, session.begin():  # rolled back: counts nothing
        audit(session, None, "case.closed", "bruno")
        await session.flush()
        await session.rollback()

    assert await totals(sessions) == {
        "escalations:urgency": 20,
        "escalations:sla": 10,
        "cases.closed": 1,
    }
    async with sessions() as session:
        rows = (await session.exec(select(func.count()).select_from(EventCounter))).one()
        audited = (await session.exec(select(func.count()).select_from(AuditEvent))).one()
    assert rows <= 3 * counters.SHARDS and audited == 61


async def test_0014_carries_the_totals_over(backend: str, tmp_path: Path) -> None:
    async with database_url(backend, tmp_path) as url:
        await upgrade(url, "0013")
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("INSERT INTO customers (name, created_at) VALUES ('c', :now)"),
                    {"now": NOW},
                )
            sessions = create_session_factory(engine)
            await insert_as_of(
                engine,
                [
                    Case(id=1, customer_id=1, source="slack", closed_at=NOW),
                    Case(id=2, customer_id=1, source="slack"),
                ],
            )
            async with engine.begin() as connection:  # as 0013's code wrote them: no counters
                for reason in ("sla", "sla", "manual"):
                    await connection.execute(
                        text(
                            "INSERT INTO audit_events (case_id, action, actor, data, created_at)"
                            " VALUES (2, 'case.escalated', 'rules', :data, :now)"
                        ),
                        {"data": f'{{"reason": "{reason}"}}', "now": NOW},
                    )
            await upgrade(url)
            assert await totals(sessions) == {
                "cases.closed": 1,
                "escalations:sla": 2,
                "escalations:manual": 1,
            }
        finally:
            await engine.dispose()

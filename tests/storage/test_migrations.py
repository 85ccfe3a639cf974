"""Data migrations carry existing rows over: each revision's backfill on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import Case, Customer
from tests.db import database_url, insert_as_of

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ROWS_BEFORE_0013 = [
    # (case source, outbox kind, channel the backfill must choose)
    ("email", "customer.ack", "email"),
    ("api", "customer.reply", "webhook"),
    ("webhook", "customer.resolved", "webhook"),
    ("slack", "customer.reminder", "slack"),
    ("email", "case.card", "slack"),
    ("email", "alert.escalation", "slack"),
    ("api", "ticket.sync", "tickets"),
]


async def test_0013_gives_every_pending_outbox_row_its_channel(
    backend: str, tmp_path: Path
) -> None:
    async with database_url(backend, tmp_path) as url:
        await upgrade(url, "0012")
        engine = create_engine(url)
        try:
            cases = [
                Case(id=n, customer_id=1, source=source)
                for n, (source, _, _) in enumerate(ROWS_BEFORE_0013, start=1)
            ]
            await insert_as_of(engine, [Customer(id=1, name="c"), *cases])
            async with engine.begin() as connection:
                insert = text(
                    "INSERT INTO outbox (kind, ordering_key, case_id, payload, status, attempts,"
                    " created_at) VALUES (:kind, :key, :n, '{}', 'pending', 0, :now)"
                )
                for n, (_, kind, _) in enumerate(ROWS_BEFORE_0013, start=1):
                    await connection.execute(
                        insert, {"kind": kind, "key": f"case:{n}", "n": n, "now": NOW}
                    )
                await connection.execute(
                    insert, {"kind": "report.email", "key": "report:1:a", "n": None, "now": NOW}
                )
            await upgrade(url)
            async with engine.connect() as connection:
                rows = (
                    await connection.execute(
                        text("SELECT case_id, channel FROM outbox ORDER BY id")
                    )
                ).all()
        finally:
            await engine.dispose()
    expected = [(n, channel) for n, (_, _, channel) in enumerate(ROWS_BEFORE_0013, start=1)]
    assert [tuple(row) for row in rows] == [*expected, (None, "email")]


async def test_0015_gives_every_existing_case_its_own_uuid(backend: str, tmp_path: Path) -> None:
    async with database_url(backend, tmp_path) as url:
        await upgrade(url, "0014")
        engine = create_engine(url)
        try:
            cases = [Case(id=n, customer_id=1, source="slack") for n in (1, 2, 3)]
            await insert_as_of(engine, [Customer(id=1, name="c"), *cases])
            await upgrade(url)
            async with engine.connect() as connection:
                ids = (
                    (await connection.execute(text("SELECT public_id FROM cases ORDER BY id")))
                    .scalars()
                    .all()
                )
        finally:
            await engine.dispose()
    assert len(set(ids)) == 3
    assert all(str(uuid.UUID(i)) == i for i in ids)

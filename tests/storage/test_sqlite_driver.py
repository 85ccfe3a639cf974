"""The SQLite driver: short writes on the event loop, queries and locks on the worker thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import (
    SerialSessions,
    create_engine,
    create_read_session_factory,
    create_session_factory,
)
from storage.migrate import upgrade
from storage.sqlite_driver import runs_inline


@pytest.mark.parametrize(
    ("sql", "inline"),
    [
        ("INSERT INTO audit_events (case_id, action) VALUES (?, ?)", True),
        ("INSERT INTO cases (subject) VALUES (?) RETURNING id, created_at", True),
        ("INSERT INTO leases (name, holder) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", True),
        ("UPDATE cases SET status=?, updated_at=? WHERE cases.id = ?", True),
        ("DELETE FROM outbox WHERE outbox.id = ?", True),
        ("SAVEPOINT sa_savepoint_1", True),
        ("RELEASE SAVEPOINT sa_savepoint_1", True),
        ("ROLLBACK TO SAVEPOINT sa_savepoint_1", True),
        ("INSERT INTO archive (id) SELECT id FROM cases", False),
        ("INSERT INTO archive (id) VALUES ((SELECT max(id) FROM cases))", False),
        ("UPDATE cases SET status=? WHERE cases.status = ?", False),
        ("UPDATE cases SET status=? WHERE cases.id = ? AND cases.status = ?", False),
        ("DELETE FROM processed_events WHERE processed_events.received_at < ?", False),
        ("SELECT cases.id FROM cases WHERE cases.id = ?", False),
        ("BEGIN IMMEDIATE", False),
        ("COMMIT", False),
        ("PRAGMA journal_mode=WAL", False),
    ],
)
def test_only_short_writes_run_inline(sql: str, inline: bool) -> None:
    assert runs_inline(sql, in_write_transaction=True) is inline


def test_nothing_runs_inline_before_the_write_lock_is_held() -> None:
    assert not runs_inline("INSERT INTO t (a) VALUES (?)", in_write_transaction=False)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path}/driver.db"
    await upgrade(url)
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


def trace_threads(engine: AsyncEngine) -> list[tuple[str, str]]:
    """(thread name, statement) for every statement SQLite runs on new connections."""
    seen: list[tuple[str, str]] = []

    @event.listens_for(engine.sync_engine, "connect")
    def _trace(dbapi_connection: Any, _record: Any) -> None:
        raw = dbapi_connection._connection._conn  # the sqlite3 connection
        raw.set_trace_callback(lambda sql: seen.append((threading.current_thread().name, sql)))

    return seen


async def test_writes_in_a_transaction_run_on_the_loop_and_the_rest_on_the_worker(
    engine: AsyncEngine,
) -> None:
    seen = trace_threads(engine)
    loop_thread = threading.current_thread().name
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO customers (name, created_at) VALUES (:n, '2026-11-24')"),
            [{"n": "ada"}],
        )
        rows = await connection.execute(text("SELECT name FROM customers"))
        assert rows.scalars().all() == ["ada"]

    where = {sql.split()[0]: thread for thread, sql in seen if not sql.startswith("PRAGMA")}
    assert where["INSERT"] == loop_thread
    assert where["BEGIN"] != loop_thread
    assert where["SELECT"] != loop_thread
    assert where["COMMIT"] != loop_thread


async def test_a_slow_query_leaves_the_event_loop_free(engine: AsyncEngine) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)  # the ticker's pace: it counts while the query runs
            ticks += 1

    ticker = asyncio.create_task(tick())
    slow = text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)"
        " SELECT count(*) FROM n"
    )
    try:
        async with engine.connect() as connection:
            started = asyncio.get_running_loop().time()
            assert (await connection.execute(slow)).scalar() == 3_000_000
            elapsed = asyncio.get_running_loop().time() - started
    finally:
        ticker.cancel()
    assert elapsed > 0.1  # slow enough to tell
    assert ticks >= elapsed / 0.005 / 4  # the loop kept turning meanwhile


async def test_rows_come_back_whole_however_they_are_fetched(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for n in range(5):
            await connection.execute(
                text("INSERT INTO customers (name, created_at) VALUES (:n, '2026-11-24')"),
                {"n": f"c{n}"},
            )
        result = await connection.execute(text("SELECT name FROM customers ORDER BY id"))
        assert [r[0] for r in result.fetchmany(2)] == ["c0", "c1"]
        assert result.fetchone() == ("c2",)
        assert [r[0] for r in result.fetchall()] == ["c3", "c4"]


async def test_an_inline_write_fails_like_any_other_and_rolls_back(engine: AsyncEngine) -> None:
    insert = text(
        "INSERT INTO customers (name, slack_user_id, created_at) VALUES (:n, 'U1', '2026-11-24')"
    )
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert, {"n": "first"})
            await connection.execute(insert, {"n": "second"})  # the same Slack user: refused
    async with engine.connect() as connection:
        count = await connection.execute(text("SELECT count(*) FROM customers"))
        assert count.scalar() == 0  # the first insert went with the rollback


async def test_a_read_session_runs_beside_an_open_write_transaction(engine: AsyncEngine) -> None:
    """Reads (a `/queue` listing) do not queue behind a burst's write transaction: on SQLite
    they take a deferred transaction on their own connection, and see what is committed."""
    writes, reads = create_session_factory(engine), create_read_session_factory(engine)
    async with writes() as session, session.begin():
        insert = text(
            "INSERT INTO audit_events (action, actor, data, created_at)"
            " VALUES ('a', 'b', '{}', '2026-12-05 00:00:00')"
        )
        await session.exec(insert)  # type: ignore[call-overload]
        async with asyncio.timeout(5):  # behind the write session's turn, this never returns
            async with reads() as reader:
                seen = (await reader.exec(text("SELECT count(*) FROM audit_events"))).one()  # type: ignore[call-overload]
    assert seen[0] == 0  # not committed yet
    async with reads() as reader:
        seen = (await reader.exec(text("SELECT count(*) FROM audit_events"))).one()  # type: ignore[call-overload]
    assert seen[0] == 1


async def test_an_in_memory_database_reads_through_the_write_sessions() -> None:
    """Each connection to `:memory:` is a database of its own: reads must share the writer's."""
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        assert isinstance(create_read_session_factory(engine), SerialSessions)
    finally:
        await engine.dispose()

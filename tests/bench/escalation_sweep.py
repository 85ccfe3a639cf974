"""Benchmark: one escalation sweep over 10,000 and over 1,000,000 cases.

Run: `.venv/bin/python -m tests.bench.escalation_sweep [--backend sqlite|postgres]
[--sizes 10000,1000000]`. Prints one JSON line per size: the time of a sweep that finds the
due cases and queues their alerts, the time of the next sweep (nothing due), and the ratio
of each to the smallest size. The target: under 1 s at 1,000,000 cases with 50,000 open,
at most 3x the time at 10,000 (the sweep reads only due rows, through indexes).

Each database has 5 % of its cases open. Of those, the same number in every size are due
(DUE for inactivity, DUE past their SLA); half of the rest wrote recently and half are old
but already alerted (the rows an unselective index would walk through). The rest are closed.
PostgreSQL: TEST_POSTGRES_URL or postgresql+asyncpg://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.escalation import EscalationSweep
from services.rules import RulesConfig
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import Case, Customer
from tests.bench.common import backend_and_sizes, databases, emit

DUE = 100
OPEN_SHARE = 0.05
CUSTOMERS = 1_000
CHUNK = 20_000
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def case_rows(total: int) -> list[dict[str, Any]]:
    """The cases, as plain rows (see the module docstring for the mix)."""
    opened = int(total * OPEN_SHARE)
    rows = []
    for n in range(total):
        old = NOW - timedelta(days=3, minutes=n % 600)
        row: dict[str, Any] = {
            "customer_id": n % CUSTOMERS + 1,
            "status": "open" if n < opened else "closed",
            "subject": f"case {n}",
            "source": "email",
            "urgency": 0.1,
            "escalation_reasons": [],
            "created_at": old,
            "updated_at": old,
            "last_customer_message_at": old,
            "consecutive_customer_messages": 1,
            "escalation_level": 0,
            "is_master": False,
            "sla_due_at": old + timedelta(hours=4),
            "sla_alerted_at": None,
            "inactivity_alerted_at": None,
            "closed_at": None,
            "closed_by": None,
        }
        if n < DUE:  # waiting for 3 days: inactivity
            row["sla_alerted_at"] = old
        elif n < 2 * DUE:  # recent, but past its SLA with no answer
            recent = NOW - timedelta(hours=2)
            row |= {"last_customer_message_at": recent, "sla_due_at": recent + timedelta(hours=1)}
        elif n < opened and n % 2:  # wrote an hour ago, SLA due tomorrow
            recent = NOW - timedelta(hours=1)
            row |= {"last_customer_message_at": recent, "sla_due_at": NOW + timedelta(days=1)}
        else:  # old and already alerted (open ones), or closed long ago
            row |= {"inactivity_alerted_at": old, "sla_alerted_at": old, "escalation_level": 1}
            if n >= opened:
                row |= {"closed_at": old, "closed_by": "U1"}
        rows.append(row)
    return rows


async def load_cases(engine: AsyncEngine, total: int) -> None:
    """The customers and `total` cases (`case_rows`), inserted in chunks."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(Customer),
            [{"name": f"c{i}", "email": f"c{i}@example.org"} for i in range(CUSTOMERS)],
        )
        rows = case_rows(total)
        for start in range(0, total, CHUNK):
            await conn.execute(insert(Case), rows[start : start + CHUNK])


async def measure(url: str, total: int) -> dict[str, Any]:
    await upgrade(url)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        started = time.perf_counter()
        await load_cases(engine, total)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                await conn.execute(text("ANALYZE cases"))
        else:
            async with engine.begin() as conn:
                await conn.execute(text("ANALYZE"))
        load = time.perf_counter() - started
        sweep = EscalationSweep(sessions, rules=RulesConfig(), clock=lambda: NOW)
        started = time.perf_counter()
        alerted = await sweep.run()
        due = time.perf_counter() - started
        idle_times = []
        for _ in range(3):
            started = time.perf_counter()
            assert await sweep.run() == 0
            idle_times.append(time.perf_counter() - started)
        assert alerted == 2 * DUE, f"expected {2 * DUE} alerts, got {alerted}"
        return {
            "cases": total,
            "open": int(total * OPEN_SHARE),
            "alerts": alerted,
            "sweep_due_s": round(due, 4),
            "sweep_idle_s": round(min(idle_times), 4),
            "load_s": round(load, 1),
        }
    finally:
        await engine.dispose()


async def run(backend: str, sizes: list[int]) -> None:
    results: list[dict[str, Any]] = []
    async for total, url in databases(backend, sizes):
        result = await measure(url, total)
        base = results[0] if results else result
        result |= {
            "bench": "escalation_sweep",
            "backend": backend,
            "due_vs_smallest": round(result["sweep_due_s"] / base["sweep_due_s"], 2),
            "idle_vs_smallest": round(result["sweep_idle_s"] / base["sweep_idle_s"], 2),
            "target": "< 1 s at 1,000,000 cases, <= 3x the 10,000 figure",
        }
        results.append(result)
        emit(result)


def main() -> None:
    asyncio.run(run(*backend_and_sizes(__doc__, "10000,1000000")))


if __name__ == "__main__":
    main()

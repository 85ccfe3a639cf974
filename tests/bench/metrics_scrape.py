"""Benchmark: a `/metrics` database read at 10,000 and at 1,000,000 audit rows.

Run: `.venv/bin/python -m tests.bench.metrics_scrape [--backend sqlite|postgres]
[--sizes 10000,1000000]`. Prints one JSON line per size: the snapshot `/metrics` reads now
(event counters kept with the audit log, storage/counters.py) and, for comparison, the scan
of the audit log it used to run for escalations by reason, each the median of 5 reads.
The target: the scrape's time does not grow with the audit log (O(1) in its size).

Each database has 1,000 cases; a tenth of the audit rows are escalations (by 4 reasons),
written through the ORM in batches so that the counters are kept as in production.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import func, insert
from sqlmodel import col, select

from services.audit import audit
from storage.engine import create_engine, create_session_factory
from storage.metrics_queries import read_snapshot
from storage.migrate import upgrade
from storage.models import AuditEvent, Case, Customer
from tests.bench.common import backend_and_sizes, databases, emit

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
REASONS = ("urgency", "sla", "inactivity", "manual")
BATCH = 5_000


async def median_seconds(read: Callable[[], Awaitable[object]], times: int = 5) -> float:
    taken = []
    for _ in range(times):
        started = time.perf_counter()
        await read()
        taken.append(time.perf_counter() - started)
    return statistics.median(taken)


async def measure(backend: str, total: int, url: str) -> None:
    await upgrade(url)
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        async with engine.begin() as connection:
            await connection.execute(insert(Customer.__table__), [{"name": "c", "created_at": NOW}])  # type: ignore[attr-defined]
            await connection.execute(
                insert(Case.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "id": n,
                        "customer_id": 1,
                        "source": "slack",
                        "subject": "s",
                        "status": "open",
                        "created_at": NOW,
                        "updated_at": NOW,
                        "escalation_reasons": [],
                    }
                    for n in range(1, 1001)
                ],
            )
        started = time.perf_counter()
        for first in range(0, total, BATCH):
            async with sessions() as session, session.begin():
                for n in range(first, min(first + BATCH, total)):
                    if n % 10 == 0:
                        audit(
                            session, n % 1000 + 1, "case.escalated", "rules", reason=REASONS[n % 4]
                        )
                    else:
                        audit(session, n % 1000 + 1, "message.received", "customer")
        filled = time.perf_counter() - started

        async def scrape() -> object:
            return await read_snapshot(sessions, NOW)

        async def old_scan() -> object:
            reason = AuditEvent.__table__.c.data["reason"].as_string()  # type: ignore[attr-defined]
            async with sessions() as session:
                rows = await session.exec(
                    select(reason, func.count())
                    .where(col(AuditEvent.action) == "case.escalated")
                    .group_by(reason)
                )
                return rows.all()

        snapshot = await read_snapshot(sessions, NOW)
        assert sum(snapshot.escalations.values()) == len(range(0, total, 10))
        emit(
            {
                "bench": "metrics_scrape",
                "backend": backend,
                "audit_rows": total,
                "scrape_ms": round(await median_seconds(scrape) * 1000, 2),
                "old_audit_scan_ms": round(await median_seconds(old_scan) * 1000, 2),
                "fill_s": round(filled, 1),
                "target": "scrape_ms flat in audit_rows",
            }
        )
    finally:
        await engine.dispose()


async def main() -> None:
    backend, sizes = backend_and_sizes(__doc__, "10000,1000000")
    async for total, url in databases(backend, sizes):
        await measure(backend, total, url)


if __name__ == "__main__":
    asyncio.run(main())

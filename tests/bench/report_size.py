"""Benchmark: the XLSX report over a large database.

Run: `.venv/bin/python -m tests.bench.report_size [--backend sqlite|postgres]
[--sizes 10000,100000]`. Prints one JSON line per size: the seconds to read the listed cases
(in the report's pages), to build the workbook, the file's size and the process's peak RSS
so far. The issue sets no target; the figures say how long `/case report`, a scheduled
report or `casebot report --out` takes on a database of that size. The cases are the
escalation sweep benchmark's (5 % open, the rest closed three days ago, so every case is in
the default 7-day window and listed).
"""

from __future__ import annotations

import asyncio
import resource
import time
from typing import Any

from services.report_data import gather
from services.report_workbook import build_workbook
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade
from tests.bench.common import backend_and_sizes, databases, emit
from tests.bench.escalation_sweep import NOW, load_cases


async def measure(url: str, total: int) -> dict[str, Any]:
    await upgrade(url)
    engine = create_engine(url)
    try:
        await load_cases(engine, total)
        sessions = create_session_factory(engine)
        started = time.perf_counter()
        data = await gather(sessions, now=NOW, window_days=7)
        read = time.perf_counter() - started
        started = time.perf_counter()
        content = build_workbook(data)
        built = time.perf_counter() - started
        assert len(data.rows) == total, f"expected {total} listed, got {len(data.rows)}"
        return {
            "cases": total,
            "read_s": round(read, 2),
            "workbook_s": round(built, 2),
            "cases_per_s": round(total / (read + built)),
            "file_mb": round(len(content) / 1e6, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    finally:
        await engine.dispose()


async def run(backend: str, sizes: list[int]) -> None:
    async for total, url in databases(backend, sizes):
        result = await measure(url, total)
        emit(result | {"bench": "report_size", "backend": backend, "target": "none (figures)"})


def main() -> None:
    asyncio.run(run(*backend_and_sizes(__doc__, "10000,100000")))


if __name__ == "__main__":
    main()

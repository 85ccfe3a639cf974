"""Benchmark: a case's summary (the offline extract) takes bounded time however long the case.

Run: `.venv/bin/python -m tests.bench.assist_summary [--sizes 10,100,1000]`. For each size, a
case with that many messages (customers and agents taking turns, Banking77 texts) on SQLite;
prints the first summary's time (reading, embedding, choosing, storing), the cached one's,
and the ratio of the first to the smallest size's (target: the 1,000-message case within 2x
of the 10-message one: the summary reads a fixed number of messages).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from services.cases import CaseService
from services.rules import RulesConfig
from services.triage.catalog import load_catalog
from services.triage.service import Triager
from services.types import Actor, Channel, CustomerIdentity, InboundMessage
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade
from tests.bench.common import banking_texts, emit

AGENT = Actor(id="UAGENT", name="agnes", is_agent=True)


async def one(size: int, folder: str, triager: Triager) -> tuple[float, float]:
    url = f"sqlite+aiosqlite:///{Path(folder) / f'summary-{size}.db'}"
    await upgrade(url)
    engine = create_engine(url)
    try:
        cases = CaseService(create_session_factory(engine), rules=RulesConfig(), triage=triager)
        texts = banking_texts(size)
        customer = CustomerIdentity(name="carol", email="carol@example.org")
        for n, text in enumerate(texts):
            if n % 2 == 0:
                inbound = InboundMessage(
                    source=Channel.EMAIL, external_id=f"<{n}@x>", body=text, customer=customer
                )
                await cases.intake.ingest(inbound)
            else:
                await cases.agents.message(
                    case_id=1, actor=AGENT, text=f"We looked at it: {text}",
                    source=Channel.SLACK, external_id=f"a{n}",
                )  # fmt: skip
        started = time.perf_counter()
        await cases.summaries.summary(1)
        first = time.perf_counter() - started
        started = time.perf_counter()
        await cases.summaries.summary(1)
        return first, time.perf_counter() - started
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,100,1000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    triager = Triager(load_catalog(), urgent_keywords=())
    await triager.start()
    smallest: float | None = None
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            first, cached = await one(size, folder, triager)
            smallest = smallest or first
            emit(
                {
                    "figure": "case summary (extract)",
                    "messages": size,
                    "first_ms": round(first * 1000, 1),
                    "cached_ms": round(cached * 1000, 1),
                    "ratio_to_smallest": round(first / smallest, 2),
                    "target_ratio": 2.0,
                }
            )
    await triager.close()


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark: a backlog of tickets posted to `POST /tickets`, accepted and then filed.

Run: `.venv/bin/python -m tests.bench.ticket_intake [--tickets 600]`. `casebot run` is a
separate process (SQLite, the local Slack emulator in this process, the local classifier);
Banking77 texts are POSTed as anonymous tickets, 32 requests in flight. Prints one JSON
line: requests accepted per second and the p50/p99 seconds of a 202 while the worker files
what came before; tickets filed per second (from the first POST until the last ticket is
completed) against the raw batched encode rate of the same model on the same texts (the
issue sets no target; `intake_and_acks` holds Slack intake to a ratio of 0.8).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import SubmittedTicket, TicketIntakeStatus
from tests.bench.common import Stored, banking_texts, emit, emulator, until_local
from tests.bench.common import settings as bench_settings
from tests.bench.intake_and_acks import raw_encode_rate
from tests.e2e.bot_process import bot_processes, settings_env

IN_FLIGHT = 32
PORT = 18767
TOKEN = "bench-token-0123456789"


async def completed(stored: Stored) -> int:
    async with AsyncSession(stored.engine) as session:
        stmt = select(func.count()).where(SubmittedTicket.status == TicketIntakeStatus.COMPLETED)
        return int((await session.exec(stmt)).one())


async def measure(texts: list[str], raw_rate: float) -> dict[str, object]:
    slack = await emulator()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = bench_settings(
                slack,
                tmp,
                port=PORT,
                api_tokens=f"bench:{TOKEN}",
                api_rate_per_minute=1e6,
                api_rate_burst=1_000_000,
            )
            stored = Stored(settings.database_url, source="api")
            async with bot_processes(settings_env(settings), Path(tmp)) as bots:
                bot = await bots.start()
                await slack.wait_connected(timeout=60)
                await until_local(PORT)
                latencies: list[float] = []
                gate = asyncio.Semaphore(IN_FLIGHT)
                headers = {"Authorization": f"Bearer {TOKEN}"}
                async with aiohttp.ClientSession(headers=headers) as http:

                    async def post(text: str) -> None:
                        async with gate:
                            started = time.perf_counter()
                            async with http.post(
                                f"http://127.0.0.1:{PORT}/tickets", json={"body": text}
                            ) as answer:
                                assert answer.status == 202, await answer.text()
                            latencies.append(time.perf_counter() - started)

                    started = time.perf_counter()
                    await asyncio.gather(*(post(t) for t in texts))
                    accepted_in = time.perf_counter() - started
                    async with asyncio.timeout(600):  # polled: another process files them
                        while True:
                            if await completed(stored) >= len(texts):
                                break
                            await asyncio.sleep(0.05)
                    filed_in = time.perf_counter() - started
                assert await stored.count() == len(texts), "one message per ticket"
                await bot.terminate()
            await stored.engine.dispose()
    finally:
        await slack.stop()
    latencies.sort()
    filed_rate = len(texts) / filed_in
    return {
        "bench": "ticket_intake",
        "tickets": len(texts),
        "accepted_per_s": round(len(texts) / accepted_in, 1),
        "accept_p50_s": round(statistics.median(latencies), 4),
        "accept_p99_s": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 4),
        "filed_per_s": round(filed_rate, 1),
        "raw_batched_encode_per_s": round(raw_rate, 1),
        "ratio": round(filed_rate / raw_rate, 3),
        "target": "none (figures)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=600)
    args = parser.parse_args()
    texts = banking_texts(args.tickets)
    emit(asyncio.run(measure(texts, raw_encode_rate(texts))))


if __name__ == "__main__":
    main()

"""Benchmark: Slack intake with local triage, and Socket Mode ack latency under that load.

Run: `.venv/bin/python -m tests.bench.intake_and_acks [--texts 600] [--commands 50]
[--backend sqlite|postgres] [--processes 1|2]`. `casebot run` is a separate process (or two
on one PostgreSQL; the local Slack emulator in this process deals envelopes to their
connections in turn; the local classifier); customers post Banking77 texts from distinct
accounts, 64 in flight. Prints two JSON lines:
- `intake`: messages stored and triaged per second, end to end, against the raw batched
  encode rate of the same model on the same texts in this run (target: ratio >= 0.5, aim
  0.8);
- `ack_latency`: while a second round of intake runs at full speed, rounds of
  `--commands` concurrent `/queue` slash commands; p50, p99 and max seconds from sending the
  envelope to its ack (target: p99 <= 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.sandbox.emulator import SlackEmulator
from bot.settings import Settings
from services.triage.embeddings import MiniLMEncoder
from tests.bench.common import (
    INTAKE,
    Stored,
    banking_texts,
    bench_database,
    check_scale,
    emulator,
    scale_options,
    until_local,
)
from tests.bench.common import settings as bench_settings
from tests.e2e.bot_process import bot_processes, settings_env

IN_FLIGHT = 64
BATCH = 32
AGENT = "UAGENT"
PORT = 18766


def raw_encode_rate(texts: list[str]) -> float:
    """Texts per second through the model alone, in batches (best of 2), in a process of its
    own: with torch loaded, this process's garbage collections paused the emulator for up to
    a quarter of a second, which the ack latencies then counted."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return float(pool.apply(_raw_encode_rate, (texts,)))


def _raw_encode_rate(texts: list[str]) -> float:
    encoder = MiniLMEncoder()
    encoder.encode(texts[:BATCH])  # warm up
    best = 0.0
    for _ in range(2):
        started = time.perf_counter()
        for start in range(0, len(texts), BATCH):
            encoder.encode(texts[start : start + BATCH])
        best = max(best, len(texts) / (time.perf_counter() - started))
    return best


async def post_all(slack: SlackEmulator, texts: list[str], offset: int) -> None:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def post(n: int, text: str) -> None:
        async with gate:
            await slack.user_message(f"UC{offset + n}", INTAKE, text, timeout=60)

    await asyncio.gather(*(post(n, t) for n, t in enumerate(texts)))


async def command_round(slack: SlackEmulator, commands: int) -> list[float]:
    async def one() -> float:
        started = time.perf_counter()
        await slack.slash_command(AGENT, "/queue", "", timeout=10)
        return time.perf_counter() - started

    return list(await asyncio.gather(*(one() for _ in range(commands))))


async def measure(
    texts: list[str], commands: int, raw_rate: float, backend: str, processes: int
) -> list[dict[str, Any]]:
    slack = await emulator()
    slack.add_user(AGENT, "agnes")
    for n in range(2 * len(texts)):
        slack.add_user(f"UC{n}", f"customer{n}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with bench_database(backend, tmp) as url:
                settings = bench_settings(slack, tmp, agent_user_ids=[AGENT], database_url=url)
                latencies, rate = await run(slack, settings, texts, commands, processes, tmp)
    finally:
        await slack.stop()
    latencies.sort()
    scale = {"backend": backend, "processes": processes}
    return [
        {
            "bench": "intake",
            **scale,
            "texts": len(texts),
            "intake_per_s": round(rate, 1),
            "raw_batched_encode_per_s": round(raw_rate, 1),
            "ratio": round(rate / raw_rate, 3),
            "target": "ratio >= 0.5 (aim 0.8)",
        },
        {
            "bench": "ack_latency",
            **scale,
            "commands": len(latencies),
            "concurrent": commands,
            "p50_s": round(statistics.median(latencies), 4),
            "p99_s": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 4),
            "max_s": round(latencies[-1], 4),
            "target": "p99 <= 0.05 s",
        },
    ]


async def run(
    slack: SlackEmulator,
    settings: Settings,
    texts: list[str],
    commands: int,
    processes: int,
    tmp: str,
) -> tuple[list[float], float]:
    """(ack latencies, intake rate) with `processes` bots on the settings' database."""
    stored = Stored(settings.database_url)
    async with bot_processes(settings_env(settings), Path(tmp)) as bots:
        for n in range(processes):  # each its own HTTP port, for /health
            bots.env = settings_env(settings.model_copy(update={"port": PORT + n}))
            await bots.start()
        await slack.wait_for(lambda: len(slack.hub.active) == processes, timeout=60)
        for n in range(processes):
            await until_local(PORT + n)

        started = time.perf_counter()
        await post_all(slack, texts, 0)
        await stored.reach(len(texts))
        rate = len(texts) / (time.perf_counter() - started)

        intake = asyncio.create_task(post_all(slack, texts, len(texts)))
        latencies: list[float] = []
        await asyncio.sleep(0.5)  # intake at full speed
        # rounds of commands for as long as the second intake is being processed
        while not intake.done() or await stored.count() < 2 * len(texts):
            latencies += await command_round(slack, commands)
            await asyncio.sleep(0.2)
        await intake
        await stored.reach(2 * len(texts))
        for bot in bots.started:
            await bot.terminate()
    await stored.engine.dispose()
    return latencies, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=600)
    parser.add_argument("--commands", type=int, default=50)
    scale_options(parser)
    args = parser.parse_args()
    check_scale(parser, args)
    texts = banking_texts(args.texts)
    raw = raw_encode_rate(texts)
    figures = measure(texts, args.commands, raw, args.backend, args.processes)
    for line in asyncio.run(figures):
        sys.stdout.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()

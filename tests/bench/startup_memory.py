"""Benchmark: start-up time to Socket Mode, and peak memory against a bare model process.

Run: `.venv/bin/python -m tests.bench.startup_memory [--messages 32]`. Prints one JSON line:
- `connected_s`: from spawning `casebot run` (SQLite, the local Slack emulator) until its
  Socket Mode connection is up (target <= 3 s; the model loads in the background);
- `model_ready_s`: until `/health` reports the local classifier;
- `peak_rss_mb` of the bot after it triaged `--messages` Slack messages (VmHWM), against
  `bare_rss_mb`: a bare Python process that loads the same model and encodes one batch of
  that many texts, and the ratio (target <= 1.25).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.common import INTAKE, Stored, banking_texts, emulator, until_local
from tests.bench.common import settings as bench_settings
from tests.e2e.bot_process import bot_processes, settings_env

BARE = """
import resource
from services.triage.embeddings import load_encoder
from tests.bench.common import banking_texts
encoder = load_encoder()
encoder.encode(banking_texts({n}))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def bare_peak_mb(messages: int) -> float:
    """Peak RSS of a process that only loads the model and encodes one batch."""
    out = subprocess.run(
        [sys.executable, "-c", BARE.replace("{n}", str(messages))],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def peak_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match, status
    return int(match.group(1)) / 1024


async def measure(messages: int) -> dict[str, object]:
    slack = await emulator()
    for n in range(messages):
        slack.add_user(f"UB{n}", f"customer{n}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = bench_settings(slack, tmp, port=18765)
            async with bot_processes(settings_env(settings), Path(tmp)) as bots:
                started = time.perf_counter()
                bot = await bots.start()
                await slack.wait_connected(timeout=60)
                connected = time.perf_counter() - started
                await until_local(settings.port)
                ready = time.perf_counter() - started
                stored = Stored(settings.database_url)
                for n, text in enumerate(banking_texts(messages)):
                    await slack.user_message(f"UB{n}", INTAKE, text)
                await stored.reach(messages, timeout=120)
                await stored.engine.dispose()
                peak = peak_mb(bot.pid)
                await bot.terminate()
    finally:
        await slack.stop()
    bare = bare_peak_mb(messages)
    return {
        "bench": "startup_memory",
        "connected_s": round(connected, 2),
        "model_ready_s": round(ready, 2),
        "peak_rss_mb": round(peak, 1),
        "bare_rss_mb": round(bare, 1),
        "rss_ratio": round(peak / bare, 3),
        "target": "connected <= 3 s; peak RSS <= 1.25x bare",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=32)
    args = parser.parse_args()
    sys.stdout.write(json.dumps(asyncio.run(measure(args.messages))) + "\n")


if __name__ == "__main__":
    main()

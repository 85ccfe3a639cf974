"""Shared pieces of the benchmarks: texts, waiting for the bot's model, counting rows."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox.emulator import SlackEmulator
from bot.settings import Settings
from storage.models import Message
from tests.db import database_url

BOT_TOKEN, APP_TOKEN = "xoxb-bench", "xapp-bench"
SUPPORT, INTAKE = "CSUPPORT", "CINTAKE"

TEXTS = Path(__file__).resolve().parents[3] / "shared" / "data" / "banking77" / "test.csv"


async def emulator(**options: Any) -> SlackEmulator:
    """The local Slack, started, with the support and intake channels."""
    slack = SlackEmulator(bot_token=BOT_TOKEN, app_token=APP_TOKEN, **options)
    await slack.start()
    slack.add_channel(SUPPORT, "support")
    slack.add_channel(INTAKE, "help")
    return slack


def settings(slack: SlackEmulator, folder: str, **overrides: Any) -> Settings:
    """The bot's settings against `slack`, with a SQLite database in `folder` (no .env)."""
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_app_token": APP_TOKEN,
        "slack_api_url": slack.api_url,
        "support_slack_channel": SUPPORT,
        "intake_slack_channels": [INTAKE],
        "database_url": f"sqlite+aiosqlite:///{folder}/bench.db",
        "host": "127.0.0.1",
        "port": 0,
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


def banking_texts(limit: int) -> list[str]:
    """Real customer messages (Banking77's test.csv), about 12 words each."""
    with TEXTS.open(newline="") as f:
        return [row["text"] for row in csv.DictReader(f)][:limit]


async def until_local(port: int) -> None:
    """Until the bot's /health says the local classifier answers (the model has loaded)."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(120):
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/health") as response:
                    if (await response.json()).get("triage") == "local":
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


class Stored:
    """Counts the bot's stored customer messages from outside (read-only, short reads)."""

    def __init__(self, url: str, source: str = "slack") -> None:
        self.engine = create_async_engine(url)
        self._source = source

    async def count(self) -> int:
        async with AsyncSession(self.engine) as session:
            stmt = select(func.count()).select_from(Message).where(Message.source == self._source)
            return int((await session.exec(stmt)).one())

    async def reach(self, total: int, timeout: float = 600.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while True:
                if await self.count() >= total:
                    return
                await asyncio.sleep(0.05)


async def databases(backend: str, sizes: list[int]) -> AsyncIterator[tuple[int, str]]:
    """For each size in turn, a fresh empty database of `backend` (dropped after)."""
    with tempfile.TemporaryDirectory() as tmp:
        for total in sizes:
            folder = Path(tmp) / str(total)
            folder.mkdir()
            async with database_url(backend, folder) as url:
                yield total, url


def scale_options(parser: argparse.ArgumentParser) -> None:
    """`--backend sqlite|postgres` and `--processes 1|2` (`casebot run` processes on one
    database: two only on PostgreSQL, as in production)."""
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)


def check_scale(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.processes > 1 and args.backend != "postgres":
        parser.error("several processes share a PostgreSQL database: add --backend postgres")


@asynccontextmanager
async def bench_database(backend: str, folder: str) -> AsyncIterator[str]:
    """A fresh empty database of `backend` for one run (SQLite in `folder`; PostgreSQL is
    TEST_POSTGRES_URL, else the local server's `test`), dropped after."""
    if backend == "postgres":
        os.environ.setdefault(
            "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        )
    async with database_url(backend, Path(folder)) as url:
        yield url


def backend_and_sizes(doc: str | None, default_sizes: str) -> tuple[str, list[int]]:
    """`--backend sqlite|postgres` and `--sizes N,N…` of a benchmark over database sizes;
    PostgreSQL is TEST_POSTGRES_URL, else the local server's `test` database."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--sizes", default=default_sizes)
    args = parser.parse_args()
    if args.backend == "postgres":
        os.environ.setdefault(
            "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        )
    return args.backend, [int(size) for size in args.sizes.split(",")]


def emit(figures: dict[str, Any]) -> None:
    """One JSON line of figures on stdout, at once."""
    sys.stdout.write(json.dumps(figures) + "\n")
    sys.stdout.flush()

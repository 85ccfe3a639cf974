"""Shared pieces of the benchmarks: texts, waiting for the bot's model, counting rows."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import aiohttp
from sqlalchemy import func
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Message

TEXTS = Path(__file__).resolve().parents[3] / "shared" / "data" / "banking77" / "test.csv"


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

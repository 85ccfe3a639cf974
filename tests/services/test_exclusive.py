"""Exclusive workers over real leases: one runner at a time, taken over when the holder dies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from bot.exclusive import Exclusive
from services.leases import Leases
from storage.engine import SessionFactory

TTL = timedelta(seconds=1.5)


class Worker:
    running: set[str] = set()
    overlaps = 0

    def __init__(self, name: str) -> None:
        self.name = name
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        if Worker.running:
            Worker.overlaps += 1
        Worker.running.add(self.name)
        try:
            await self._stopping.wait()
        finally:
            Worker.running.discard(self.name)

    def stop(self) -> None:
        self._stopping.set()


class Flaky(Leases):
    """Leases whose database can be cut off, as for a process that lost it or froze."""

    cut = False

    async def claim(self, name: str) -> bool:
        if self.cut:
            raise ConnectionError("database unreachable")
        return await super().claim(name)

    async def release(self, name: str) -> None:
        if self.cut:
            raise ConnectionError("database unreachable")
        await super().release(name)


async def until(check: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if check():
                return
            await asyncio.sleep(0.05)


async def test_one_process_runs_the_worker_and_another_takes_over_when_it_is_cut_off(
    sessions: SessionFactory,
) -> None:
    Worker.running, Worker.overlaps = set(), 0
    leases = {name: Flaky(sessions, holder=name, ttl=TTL) for name in ("a", "b")}
    runners = {
        name: Exclusive(
            leases[name],
            "imap:box",
            lambda name=name: Worker(name),
            stop_within=2,
        )
        for name in ("a", "b")
    }
    tasks = {name: asyncio.create_task(r.run()) for name, r in runners.items()}
    await until(lambda: len(Worker.running) == 1)
    # Two lease lengths must really pass: renewals keep the same holder.
    await asyncio.sleep(TTL.total_seconds() * 2)
    assert len(Worker.running) == 1
    first = next(iter(Worker.running))
    second = "b" if first == "a" else "a"

    # The holder loses the database: it cannot renew, so it stops its worker before its
    # lease can lapse, and it cannot release either; the other takes over once it expires.
    leases[first].cut = True
    await until(lambda: Worker.running == {second}, within=TTL.total_seconds() * 3)
    for runner in runners.values():
        runner.stop()
    await asyncio.gather(*tasks.values())
    assert Worker.running == set()
    assert Worker.overlaps == 0
    assert await Leases(sessions).holder_of("imap:box") is None, "an orderly stop releases it"

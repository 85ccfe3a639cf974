"""Periodic jobs (APScheduler 3, in memory): each is an idempotent sweep over the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from storage.models import utcnow

log = logging.getLogger(__name__)

Sweep = Callable[[], Awaitable[int]]


class Sweeps:
    """Each sweep runs at start and every `interval_seconds` (fractions allowed).

    A sweep returns how many rows it queued; a sweep that fails is logged and runs again at
    its next turn (the rows it did not mark are still due).

    APScheduler's asyncio executor cancels running jobs on shutdown; a sweep cancelled in the
    middle of opening a database connection can wedge the driver (aiosqlite waits forever for
    its worker thread). So `stop` lets the sweeps in hand finish first, within a grace period.
    """

    def __init__(self, sweeps: Mapping[str, Sweep], *, interval_seconds: float) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._running: set[asyncio.Task[object]] = set()
        for name, sweep in sweeps.items():
            self.scheduler.add_job(
                self._run,
                "interval",
                args=(name, sweep),
                seconds=interval_seconds,
                id=name,
                max_instances=1,
                coalesce=True,
                next_run_time=utcnow(),
                misfire_grace_time=None,
            )

    def add_cron(self, name: str, sweep: Sweep, trigger: BaseTrigger) -> None:
        """Run `sweep` on `trigger`'s times (a cron schedule), and once at start."""
        self.scheduler.add_job(
            self._run,
            trigger,
            args=(name, sweep),
            id=name,
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
            misfire_grace_time=None,
        )

    async def _run(self, name: str, sweep: Sweep) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            queued = await sweep()
        finally:
            self._running.discard(task)
        if queued:
            log.info("%s queued %s item(s)", name, queued)

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self, *, within: float) -> None:
        """No new runs; the runs in hand finish (or are cancelled after `within` seconds)."""
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        running = set(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=within)
            for task in late:
                log.warning("sweep %s did not finish within %s s; cancelling it", task, within)
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=within)
        self.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # the asyncio scheduler shuts down on the loop's next turn

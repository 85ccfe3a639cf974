"""Periodic jobs (APScheduler 3, in memory): each is an idempotent sweep over the database."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from storage.models import utcnow

log = logging.getLogger(__name__)

Sweep = Callable[[], Awaitable[int]]


def build_scheduler(sweeps: Mapping[str, Sweep], *, interval_seconds: float) -> AsyncIOScheduler:
    """Each sweep runs at start and every `interval_seconds` (fractions allowed).

    A sweep returns how many rows it queued; a sweep that fails is logged and runs again at
    its next turn (the rows it did not mark are still due).
    """
    scheduler = AsyncIOScheduler(timezone="UTC")
    for name, sweep in sweeps.items():

        async def run(name: str = name, sweep: Sweep = sweep) -> None:
            queued = await sweep()
            if queued:
                log.info("%s queued %s item(s)", name, queued)

        scheduler.add_job(
            run,
            "interval",
            seconds=interval_seconds,
            id=name,
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
            misfire_grace_time=None,
        )
    return scheduler

"""Periodic jobs (APScheduler 3, in memory): each is an idempotent sweep over the database."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from storage.models import utcnow

log = logging.getLogger(__name__)


def build_scheduler(
    *, escalation_sweep: Callable[[], Awaitable[int]], interval_seconds: float
) -> AsyncIOScheduler:
    """The escalation sweep runs at start and every `interval_seconds` (fractions allowed)."""
    scheduler = AsyncIOScheduler(timezone="UTC")

    async def sweep() -> None:
        alerted = await escalation_sweep()
        if alerted:
            log.info("escalation sweep queued %s alert(s)", alerted)

    first_run: datetime = utcnow()
    scheduler.add_job(
        sweep,
        "interval",
        seconds=interval_seconds,
        id="escalation-sweep",
        max_instances=1,
        coalesce=True,
        next_run_time=first_run,
        misfire_grace_time=None,
    )
    return scheduler

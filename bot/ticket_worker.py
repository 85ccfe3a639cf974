"""The loop that files tickets posted to `POST /tickets`: woken by a submit in this process,
and polling for the rest (other processes' tickets, retries, a dead process's leases)."""

from __future__ import annotations

import asyncio
import logging

from bot.tasks import sleep_unless
from services.ticket_intake import TicketIntake

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
BATCH = 32  # tickets filed together: their texts share one encode


class TicketWorker:
    """Runs `TicketIntake.process_due` until stopped."""

    def __init__(self, intake: TicketIntake, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.intake = intake
        self._poll = poll_seconds
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        """A ticket was stored: file it now rather than at the next poll."""
        self._wakeup.set()

    def stop(self) -> None:
        """Finish the ticket in hand, then return from `run`."""
        self._stopping.set()
        self._wakeup.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            self._wakeup.clear()
            try:
                # a batch at a time: a stop waits for one batch at most, never for a backlog
                handled = await self.intake.process_due(limit=BATCH)
            except Exception:  # the database away, most likely: the next pass tries again
                log.exception("ticket intake pass failed; retrying")
                handled = 0
            if handled == 0 and not self._stopping.is_set():
                await sleep_unless(self._wakeup, self._poll)

"""Process-wide duties on a shared database: a heartbeat, and workers only one process runs.

The IMAP poller must run in exactly one process per mailbox: two pollers would race for
the same UIDs (harmless thanks to Message-ID dedup, but wasteful and out of order). The
process that holds the mailbox's lease runs it; when that process dies, its lease expires
and another process takes the mailbox over within one TTL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from bot.tasks import finish, sleep_unless
from services.leases import Leases

log = logging.getLogger(__name__)


class Worker(Protocol):
    async def run(self) -> None: ...

    def stop(self) -> None: ...


class Heartbeat:
    """Renews this process's `instance:` lease every third of its TTL; the first beat is
    the caller's, at start (before anything may ask whether this process is alive)."""

    def __init__(self, leases: Leases) -> None:
        self._leases = leases
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        period = self._leases.ttl.total_seconds() / 3
        while True:
            await sleep_unless(self._stopping, period)
            if self._stopping.is_set():
                break
            try:
                await asyncio.wait_for(self._leases.heartbeat(), timeout=period)
            except Exception as error:  # the database is away: try again next period
                log.warning("heartbeat failed: %r", error)
        try:
            await asyncio.wait_for(self._leases.retire(), timeout=period)
        except Exception as error:
            log.warning("could not retire this process's lease: %r", error)


class Exclusive:
    """Runs the worker that `make` builds only while this process holds lease `name`.

    The lease is renewed every third of its TTL. If renewing fails (the database is away)
    for so long that the lease may have lapsed, or another process has taken it, the worker
    is stopped: two holders at once must not outlast one renewal period.
    """

    def __init__(
        self, leases: Leases, name: str, make: Callable[[], Worker], *, stop_within: float
    ) -> None:
        self._leases = leases
        self.name = name
        self._make = make
        self._stop_within = stop_within
        self._stopping = asyncio.Event()
        self.current: Worker | None = None
        self.held = asyncio.Event()  # set while this process runs the worker
        self.elsewhere = False  # the last claim found the lease held by another process

    def stop(self) -> None:
        self._stopping.set()

    @property
    def _period(self) -> float:
        return self._leases.ttl.total_seconds() / 3

    async def _claim(self) -> float | None:
        """Take or renew the lease: until when (monotonic) this process surely holds it, or
        None while another process does. Raises when the database cannot say."""
        asked = time.monotonic()  # the lease runs from before the request, to be safe
        try:
            held = await asyncio.wait_for(self._leases.claim(self.name), timeout=self._period)
        except Exception as error:
            log.warning("lease %s: could not claim: %r", self.name, error)
            raise
        return asked + self._leases.ttl.total_seconds() if held else None

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                valid_until = await self._claim()
                self.elsewhere = valid_until is None
            except Exception:
                valid_until = None
                self.elsewhere = False
            if valid_until is not None:
                await self._hold(valid_until=valid_until)
            await sleep_unless(self._stopping, self._period)

    async def _hold(self, *, valid_until: float) -> None:
        """Run the worker, renewing the lease, until told to stop or the lease is in doubt."""
        log.info("lease %s taken: running it here", self.name)
        worker = self.current = self._make()
        task = asyncio.create_task(worker.run(), name=self.name)
        self.held.set()
        try:
            while not self._stopping.is_set() and not task.done():
                stopping = asyncio.ensure_future(self._stopping.wait())
                await asyncio.wait(
                    {task, stopping}, timeout=self._period, return_when=asyncio.FIRST_COMPLETED
                )
                stopping.cancel()
                if self._stopping.is_set() or task.done():
                    break
                try:
                    renewed = await self._claim()
                except Exception:
                    if time.monotonic() >= valid_until - self._period:
                        log.warning("lease %s: cannot renew it in time; stopping", self.name)
                        break
                    continue
                if renewed is None:
                    log.warning("lease %s: taken by another process", self.name)
                    break
                valid_until = renewed
        finally:
            self.held.clear()
            worker.stop()
            await finish(task, within=self._stop_within)
            try:
                await asyncio.wait_for(self._leases.release(self.name), timeout=self._period)
            except Exception as error:  # it expires on its own
                log.warning("lease %s: could not release: %r", self.name, error)

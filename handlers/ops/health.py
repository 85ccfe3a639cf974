"""`GET /health`: can this process serve, and what works less well than it should.

The body names each component (database, Slack, IMAP, scheduler, classifier) with a status
and a plain-words detail, and an overall `status`:

- `ok` (200): everything works;
- `degraded` (200): cases are still taken, something is missing: triage on keyword rules,
  Claude's breaker open, the mailbox not connected, the scheduler stopped, or Slack
  reconnecting for less than SLACK_GRACE_SECONDS;
- `down` (503): the process cannot serve: the database does not answer, or Socket Mode has
  been disconnected for longer than the grace. A load balancer takes it out of rotation.

Slack's outage is timed from the first check that found the connection gone (the SDK does
not say when it dropped), so the grace is as precise as the load balancer's check interval.

`database` and `triage` stay at the top level as well (older checks and the benchmarks
read them), and `services` maps each component to the case-management document's words
(`healthy`, `degraded`, `unhealthy`, `disabled`) for clients written against it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from aiohttp import web
from sqlalchemy import text

from services.triage.service import Triager
from storage.engine import SessionFactory

log = logging.getLogger(__name__)

PATH = "/health"
SLACK_GRACE_SECONDS = 30.0  # a reconnect takes a second or two; longer than this is an outage
DATABASE_TIMEOUT_SECONDS = 3.0  # an unreachable server must not hang the check

OK, DEGRADED, DOWN, OFF = "ok", "degraded", "down", "off"


@dataclass(frozen=True)
class Component:
    status: str  # ok | degraded | down | off (not configured)
    detail: str


class Health:
    """Probes each component; `slack_connected` answers None before Socket Mode is set up."""

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        triager: Triager,
        slack_connected: Callable[[], Awaitable[bool | None]],
        imap: Callable[[], Component],
        scheduler_running: Callable[[], bool],
        slack_grace: float = SLACK_GRACE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._triager = triager
        self._slack_connected = slack_connected
        self._imap = imap
        self._scheduler_running = scheduler_running
        self.slack_grace = slack_grace
        self._monotonic = monotonic
        self._started_at = monotonic()
        self._slack_lost_at: float | None = None  # when a check first found it disconnected

    async def database(self) -> Component:
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS), self._sessions() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        except Exception as error:  # any failure to answer is "down" for a health check
            log.warning("health: the database did not answer: %r", error)
            return Component(DOWN, f"does not answer: {type(error).__name__}")
        return Component(OK, "answers")

    async def slack(self) -> Component:
        connected = await self._slack_connected()
        now = self._monotonic()
        if connected:
            self._slack_lost_at = None
            return Component(OK, "connected over Socket Mode")
        if connected is None:  # starting: Socket Mode is not set up yet
            what, waited = "connecting", now - self._started_at
        else:
            if self._slack_lost_at is None:
                self._slack_lost_at = now
            what, waited = "disconnected", now - self._slack_lost_at
        if waited <= self.slack_grace:
            return Component(DEGRADED, f"{what} for {waited:.0f} s; reconnecting")
        return Component(DOWN, f"{what} for {waited:.0f} s (longer than {self.slack_grace:g} s)")

    def scheduler(self) -> Component:
        if self._scheduler_running():
            return Component(OK, "running")
        return Component(DEGRADED, "not running: no escalation or reminder sweeps")

    def classifier(self) -> Component:
        triager = self._triager
        mode = triager.mode
        if triager.failed or (triager.llm is not None and mode != "claude"):
            return Component(DEGRADED, mode)
        return Component(OK, mode)

    async def check(self) -> tuple[int, dict[str, object]]:
        """The HTTP status and the body."""
        components = {
            "database": await self.database(),
            "slack": await self.slack(),
            "imap": self._imap(),
            "scheduler": self.scheduler(),
            "classifier": self.classifier(),
        }
        statuses = {c.status for c in components.values()}
        if components["database"].status == DOWN or components["slack"].status == DOWN:
            overall = DOWN
        elif statuses & {DEGRADED, DOWN}:
            overall = DEGRADED
        else:
            overall = OK
        body: dict[str, object] = {
            "status": overall,
            "database": "ok" if components["database"].status == OK else "down",
            "triage": self._triager.mode,
            "components": {name: asdict(c) for name, c in components.items()},
            "services": {name: DOCUMENT_WORDS[c.status] for name, c in components.items()},
        }
        return (503 if overall == DOWN else 200), body


# Our component status -> the word the case-management document uses.
DOCUMENT_WORDS = {OK: "healthy", DEGRADED: "degraded", DOWN: "unhealthy", OFF: "disabled"}


def register(router: web.UrlDispatcher, health: Health) -> None:
    async def handle(_request: web.Request) -> web.Response:
        status, body = await health.check()
        return web.json_response(body, status=status)

    router.add_get(PATH, handle)

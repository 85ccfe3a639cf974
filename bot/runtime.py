"""The lifecycle: wire the parts (bot/wiring), start their loops and connect to Slack; on
a stop, take them down in order within the SIGTERM budget."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.config import api_tokens, imap_config, smtp_config
from bot.dispatcher import OutboxDispatcher
from bot.exclusive import Heartbeat
from bot.heap import settle_heap
from bot.http_server import HttpServer
from bot.scheduler import Sweeps
from bot.settings import ConfigError, Settings
from bot.shutdown import finish_listeners, flush_outbox
from bot.tasks import finish
from bot.wiring import Parts, wire
from bot.wiring.http import http_server
from bot.wiring.reports import report_schedule
from bot.wiring.sweeps import sweeps
from handlers.email.poller import ImapPoller
from handlers.ops import health
from services.cases import CaseService
from services.escalation import EscalationSweep
from services.report_schedule import ReportJob
from services.reports import ReportService
from services.triage.learning import learnt
from services.triage.service import Triager
from storage.engine import SessionFactory
from storage.models import utcnow

log = logging.getLogger(__name__)


STOP_SECONDS = 5.0  # each loop's grace to finish the step in hand before it is cancelled
IN_HAND_SECONDS = 3.0  # on stop: for envelopes already acked to finish
FLUSH_SECONDS = 3.0  # on stop: for the outbox to deliver what it can
# A whole stop fits in this (SIGTERM: exit within 10 s, Docker's and Kubernetes's grace);
# each step gets its own grace or what is left of this, but at least MIN_STEP_SECONDS.
STOP_BUDGET_SECONDS = 8.0
MIN_STEP_SECONDS = 0.25


class Runtime:
    """Everything `casebot run` builds, started and stopped in order."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        routes: Callable[[web.UrlDispatcher], None] | None = None,
    ) -> None:
        settings.require_slack()
        # Validated now, so that a bad configuration fails in one line before anything opens.
        smtp = smtp_config(settings)
        imap_config(settings)
        api_tokens(settings)
        self._report_trigger = report_schedule(settings, smtp)
        self._routes = routes  # more pages on the HTTP server (the sandbox's)
        self.settings = settings
        self.clock = clock
        self.parts: Parts | None = None
        self.report_job: ReportJob | None = None  # the scheduled report (REPORT_CRON)
        self.http_port: int | None = None  # the bound port (PORT=0 picks a free one)
        self.health: health.Health
        self._resources = AsyncExitStack()  # what wiring opened, closed last
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._heartbeat: Heartbeat | None = None
        self._handler: AsyncSocketModeHandler | None = None
        self._scheduler: Sweeps | None = None
        self._http_server: HttpServer | None = None
        self._stopped = False

    # The parts tests and benchmarks reach for.
    @property
    def _wired(self) -> Parts:
        assert self.parts is not None, "start() has not wired the parts yet"
        return self.parts

    @property
    def sessions(self) -> SessionFactory:
        return self._wired.sessions

    @property
    def cases(self) -> CaseService:
        return self._wired.cases

    @property
    def dispatcher(self) -> OutboxDispatcher:
        return self._wired.dispatcher

    @property
    def triager(self) -> Triager:
        return self._wired.triager

    @property
    def sweep(self) -> EscalationSweep:
        return self._wired.sweep

    @property
    def reports(self) -> ReportService:
        return self._wired.reports

    async def start(self, *, connect_timeout: float = 30.0) -> None:
        """Wire, start the loops, then connect to Slack."""
        s = self.settings
        self.parts = parts = await wire(
            s, clock=self.clock, resources=self._resources, stop_within=STOP_SECONDS
        )
        self._heartbeat = Heartbeat(parts.leases)
        self._task("heartbeat", self._heartbeat.run())
        # The model loads in the background: Socket Mode connects meanwhile and acks at once;
        # intake waits for the model (Triager.classify), nothing else does.
        self._task("triage-start", self._start_triage())
        server, self.health = http_server(
            s,
            parts,
            slack_connected=self._slack_connected,
            scheduler_running=lambda: bool(self._scheduler and self._scheduler.scheduler.running),
            extra=self._routes,
        )
        try:
            self.http_port = await server.start(s.host, s.port)
        except OSError as exc:
            raise ConfigError(
                f"PORT: cannot listen on {s.host}:{s.port} ({exc.strerror or exc})"
            ) from exc
        self._http_server = server
        self._task("outbox-dispatcher", parts.dispatcher.run())
        self._task("ticket-intake", parts.ticket_worker.run())
        if parts.mailbox is not None:
            self._task("imap-mailbox", parts.mailbox.run())
        self._scheduler, self.report_job = sweeps(s, parts, self._report_trigger, self.clock)
        self._scheduler.start()
        self._handler = AsyncSocketModeHandler(
            parts.app, str(s.slack_app_token), ping_interval=s.socket_mode_ping_interval
        )
        parts.metrics.count_reconnects(self._handler.client)
        await asyncio.wait_for(self._handler.connect_async(), timeout=connect_timeout)  # type: ignore[no-untyped-call]
        log.info("connected to Slack over Socket Mode; support channel %s", parts.channels.support)
        self._task("slack-catch-up", parts.catch_up.run())

    def _task(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        self._tasks[name] = asyncio.create_task(work, name=name)

    async def _start_triage(self) -> None:
        await self.triager.start(lambda dimension: learnt(self.sessions, dimension))
        await self.cases.learning.mark_learnt()
        log.info("triage: %s", self.triager.mode)
        settle_heap()

    async def triage_ready(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Wait until the model has loaded (or given up): tests, benchmarks."""
        await asyncio.wait_for(asyncio.shield(self._tasks["triage-start"]), timeout)

    async def _slack_connected(self) -> bool | None:
        """Whether Socket Mode is connected now (None: not set up yet)."""
        if self._handler is None:
            return None
        return bool(await self._handler.client.is_connected())

    @property
    def poller(self) -> ImapPoller | None:
        """The IMAP poller while this process holds the mailbox (None otherwise)."""
        mailbox = self.parts.mailbox if self.parts is not None else None
        current = mailbox.current if mailbox is not None else None
        return current if isinstance(current, ImapPoller) else None

    async def poller_connected(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until this process's IMAP poller has selected its mailbox (tests, health)."""
        mailbox = self._wired.mailbox
        assert mailbox is not None, "IMAP_SERVER is not configured"
        async with asyncio.timeout(timeout):
            await mailbox.held.wait()
            assert self.poller is not None
            await self.poller.connected.wait()

    async def stop(self) -> None:
        """Stop taking requests and envelopes, then stop the jobs, then close connections.
        A second call does nothing."""
        if self._stopped:
            return
        self._stopped = True
        deadline = time.monotonic() + STOP_BUDGET_SECONDS

        def grace(seconds: float) -> float:
            return max(min(seconds, deadline - time.monotonic()), MIN_STEP_SECONDS)

        tasks, parts = self._tasks, self.parts
        if self._http_server is not None:
            await self._http_server.stop()
        if self._handler is not None:
            # slack_sdk's close can wedge on a half-closed socket: bound it, never hang a stop.
            try:
                async with asyncio.timeout(grace(STOP_SECONDS)):
                    await self._handler.close_async()  # type: ignore[no-untyped-call]
            except Exception as error:  # stopping goes on whatever the socket did
                log.warning("Socket Mode did not close cleanly: %r", error)
        # A model still loading (envelopes in hand go to keyword rules instead), a read-back
        # in progress (the next start reads back again): neither is waited for.
        for name in ("triage-start", "slack-catch-up"):
            if (task := tasks.get(name)) is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        # envelopes already acked: Slack will not send them again, so they are finished here
        await finish_listeners(within=grace(IN_HAND_SECONDS))
        if self._scheduler is not None:
            await self._scheduler.stop(within=grace(STOP_SECONDS))
        if parts is not None and parts.mailbox is not None and "imap-mailbox" in tasks:
            parts.mailbox.stop()
            await finish(tasks["imap-mailbox"], within=grace(STOP_SECONDS * 2))
        if parts is not None and "ticket-intake" in tasks:
            parts.ticket_worker.stop()  # a ticket not filed yet waits in the database
            await finish(tasks["ticket-intake"], within=grace(STOP_SECONDS))
        if parts is not None and "outbox-dispatcher" in tasks:
            await flush_outbox(parts.dispatcher, within=grace(FLUSH_SECONDS))
            parts.dispatcher.stop()
            await finish(tasks["outbox-dispatcher"], within=grace(STOP_SECONDS))
            await parts.dispatcher.release()
        if self._heartbeat is not None and "heartbeat" in tasks:
            self._heartbeat.stop()  # and says at once that this process is gone
            await finish(tasks["heartbeat"], within=grace(STOP_SECONDS))
        await self._resources.aclose()  # App Home, refits, HTTP client, triage, the engine

    async def serve_forever(self, *, started: Callable[[], None] | None = None) -> None:
        """Run until SIGINT or SIGTERM; `started` is called once everything is up."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.start()  # a failure half-way still closes what was opened
            if started is not None:
                started()
            await stop.wait()
            log.info("stopping")
        finally:
            await self.stop()

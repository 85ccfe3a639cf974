"""The composition root: settings → database → services → Bolt app → Socket Mode, and back down."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine

import handlers.slack
from bot.delivery import Delivery, senders
from bot.dispatcher import OutboxDispatcher
from bot.email_wiring import email_intake, email_notifier, mailbox_health
from bot.exclusive import Exclusive, Heartbeat
from bot.heap import settle_heap
from bot.http_server import HttpServer
from bot.report_wiring import report_delivery, report_schedule, report_service
from bot.scheduler import Sweeps
from bot.settings import (
    ConfigError,
    Settings,
    agents_file,
    api_tokens,
    catalog,
    imap_config,
    smtp_config,
)
from bot.shutdown import finish_listeners, flush_outbox
from bot.tasks import finish
from bot.ticket_worker import TicketWorker
from bot.triage_wiring import build_triager
from handlers.api import routes as api_routes
from handlers.email.poller import ImapPoller, mailbox_key
from handlers.ops import health, metrics
from handlers.slack.channels import resolve_channels
from handlers.slack.client import build_client
from handlers.slack.dedup import RecentIds, SharedEventIds, event_dedup_middleware
from handlers.slack.deps import SlackDeps
from handlers.slack.home import HomePublisher
from handlers.slack.notifier import SlackNotifier
from handlers.slack.pacing import ChannelPacer
from handlers.slack.people import People
from handlers.tickets.notifier import TicketNotifier
from handlers.webhook import routes as webhook_routes
from handlers.webhook.notifier import WebhookNotifier
from services.api_reads import ApiReads
from services.cases import CaseService
from services.escalation import EscalationSweep
from services.home import Dashboard
from services.leases import Leases
from services.mailbox import MailboxState
from services.reminders import ReminderSweep
from services.report_schedule import ReportJob
from services.routing import AgentDirectory
from services.ticket_intake import TicketIntake
from services.tickets import TicketSync
from services.triage.learning import learnt
from services.triage.service import Triager
from storage.engine import SessionFactory, create_engine, create_session_factory, is_sqlite
from storage.migrate import upgrade
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
        self._routes = routes  # more pages on the HTTP server (the sandbox's)
        self._smtp = smtp_config(settings)  # validated now, so a bad config fails in one line
        self._imap = imap_config(settings)
        self._api_tokens = api_tokens(settings)
        self._report_trigger = report_schedule(settings, self._smtp)
        self.report_job: ReportJob | None = None  # the scheduled report (REPORT_CRON)
        self.triager: Triager | None = None
        self._mailbox: Exclusive | None = None  # the IMAP poller, run by one process at a time
        self._poll_task: asyncio.Task[None] | None = None
        self._heartbeat: Heartbeat | None = None
        self._triage_task: asyncio.Task[None] | None = None
        self._stopped = False
        self._heartbeat_task: asyncio.Task[None] | None = None
        self.settings = settings
        self.clock = clock
        self._engine: AsyncEngine | None = None
        self._http: aiohttp.ClientSession | None = None
        self._handler: AsyncSocketModeHandler | None = None
        self._scheduler: Sweeps | None = None
        self._dispatch_task: asyncio.Task[None] | None = None
        self._ticket_task: asyncio.Task[None] | None = None
        self.ticket_worker: TicketWorker
        self._http_server: HttpServer | None = None
        self.http_port: int | None = None  # the bound port (PORT=0 picks a free one)
        self.metrics: metrics.Metrics
        self.health: health.Health
        self.sessions: SessionFactory
        self.cases: CaseService
        self.dispatcher: OutboxDispatcher
        self.sweep: EscalationSweep
        self.reminders: ReminderSweep
        self.app: AsyncApp
        self.home: HomePublisher

    async def start(self, *, connect_timeout: float = 30.0) -> None:
        """Migrate, wire, connect to Slack, then start the dispatcher and the scheduler."""
        s = self.settings
        service_catalog = catalog(s)
        agents_spec = agents_file(s)
        await upgrade(s.database_url)
        self._engine = create_engine(s.database_url)
        self.sessions = sessions = create_session_factory(self._engine)
        self.metrics = metrics.Metrics(sessions)
        # Leases measure real time, whatever clock the rules run on.
        self.leases = Leases(sessions, ttl=timedelta(seconds=s.lease_seconds))
        await self.leases.heartbeat()
        self._heartbeat = Heartbeat(self.leases)
        self._heartbeat_task = asyncio.create_task(self._heartbeat.run(), name="heartbeat")
        self._http = aiohttp.ClientSession()
        client = build_client(str(s.slack_bot_token), s.slack_api_url, self._http)

        channels = await resolve_channels(
            client,
            support=str(s.support_slack_channel),
            alerts=s.alerting_slack_channel,
            log=s.logging_slack_channel,
            intake=s.intake_slack_channels,
        )
        self.dispatcher = OutboxDispatcher(
            sessions,
            lambda item, superseded: delivery(item, superseded),
            clock=self.clock,
            lease=self.leases.ttl,
            holder=self.leases.holder,
            max_attempts=s.outbox_max_attempts,
            max_backoff=timedelta(seconds=s.outbox_retry_max_seconds),
            on_failure=self.metrics.delivery_failed,
        )
        self.triager = build_triager(s, service_catalog, observe=self.metrics.triaged)
        self.agents = AgentDirectory(sessions, service_catalog)
        if agents_spec is not None:
            log.info("agents: %s loaded from AGENTS_PATH", await self.agents.load(agents_spec))
        self.cases = CaseService(
            sessions,
            rules=s.rules,
            clock=self.clock,
            notify=self.dispatcher.wake,
            triage=self.triager,
            storms=s.storms,
            sync_tickets=bool(s.ticket_api_url),
        )
        # The model loads in the background: Socket Mode connects meanwhile and acks at once;
        # intake waits for the model (Triager.classify), nothing else does.
        self._triage_task = asyncio.create_task(self._start_triage(), name="triage-start")
        people = People(client, agent_user_ids=s.agent_user_ids, agent_usergroup=s.agent_usergroup)
        self.home = HomePublisher(
            client,
            Dashboard(sessions, clock=self.clock),
            people,
            channels,
            support_email=s.support_email,
        )
        notifier = SlackNotifier(
            client,
            self.cases,
            channels,
            pacer=ChannelPacer(per_second=s.slack_posts_per_second),
            on_card=self.home.changed,
        )
        mailbox_state = MailboxState(sessions, clock=self.clock)
        smtp = self._smtp
        mailer = email_notifier(s, smtp, sessions, self.clock) if smtp else None
        webhook = (
            WebhookNotifier(self._http, s.webhook_reply_url, s.webhook_secret, clock=self.clock)
            if s.webhook_secret and s.webhook_reply_url
            else None
        )
        self.reports = report_service(s, sessions, clock=self.clock, notify=self.dispatcher.wake)
        reports = report_delivery(s, self.reports, client, smtp, self.clock)
        tickets = (
            TicketNotifier(
                self._http,
                s.ticket_api_url,
                s.ticket_api_token,
                TicketSync(sessions, clock=self.clock, notify=self.dispatcher.wake),
                timeout=s.ticket_api_timeout_seconds,
            )
            if s.ticket_api_url
            else None
        )
        delivery = Delivery(
            senders(
                self.cases,
                slack=notifier,
                reports=reports,
                email=mailer,
                webhook=webhook,
                tickets=tickets,
            )
        )
        self.sweep = EscalationSweep(
            sessions, rules=s.rules, clock=self.clock, notify=self.dispatcher.wake
        )

        self.app = AsyncApp(client=client, request_verification_enabled=False)
        # One process: a set in memory. Several on one PostgreSQL: a table they all see.
        seen = RecentIds() if is_sqlite(s.database_url) else SharedEventIds(self.leases)
        self.app.middleware(event_dedup_middleware(seen))
        handlers.slack.register(
            self.app,
            SlackDeps(
                cases=self.cases,
                people=people,
                channels=channels,
                mailbox=mailbox_state,
                agents=self.agents,
                home=self.home,
                reports=self.reports,
            ),
        )

        self.ticket_worker = TicketWorker(
            TicketIntake(
                sessions,
                self.cases,
                holder=self.leases.holder,
                clock=self.clock,
                notify=lambda: self.ticket_worker.wake(),
            )
        )
        await self._start_http()
        self._dispatch_task = asyncio.create_task(self.dispatcher.run(), name="outbox-dispatcher")
        self._ticket_task = asyncio.create_task(self.ticket_worker.run(), name="ticket-intake")
        if self._imap is not None:
            intake = email_intake(
                s,
                self.cases,
                mailbox_state,
                sessions,
                clock=self.clock,
                notify=self.dispatcher.wake,
            )
            imap = self._imap
            self._mailbox = Exclusive(
                self.leases,
                f"imap:{mailbox_key(imap)}",
                lambda: ImapPoller(imap, mailbox_state, intake.handle),
                stop_within=STOP_SECONDS,
            )
            self._poll_task = asyncio.create_task(self._mailbox.run(), name="imap-mailbox")
        self.reminders = ReminderSweep(
            sessions, hours=s.reminder_hours, clock=self.clock, notify=self.dispatcher.wake
        )
        self._scheduler = Sweeps(
            {
                "escalation-sweep": self.sweep.run,
                "reminder-sweep": self.reminders.run,
                "triage-refresh": self.cases.learning.refresh,
                "housekeeping": self.leases.tidy,
            },
            interval_seconds=s.escalation_check_interval,
        )
        if self._report_trigger is not None:
            self.report_job = ReportJob(self.reports, self._report_trigger, clock=self.clock)
            self._scheduler.add_cron("report", self.report_job.run, self._report_trigger)
        self._scheduler.start()
        self._handler = AsyncSocketModeHandler(
            self.app, str(s.slack_app_token), ping_interval=s.socket_mode_ping_interval
        )
        self.metrics.count_reconnects(self._handler.client)
        await asyncio.wait_for(self._handler.connect_async(), timeout=connect_timeout)  # type: ignore[no-untyped-call]
        log.info("connected to Slack over Socket Mode; support channel %s", channels.support)

    async def _start_triage(self) -> None:
        assert self.triager is not None
        await self.triager.start(lambda dimension: learnt(self.sessions, dimension))
        await self.cases.learning.mark_learnt()
        log.info("triage: %s", self.triager.mode)
        settle_heap()

    async def triage_ready(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Wait until the model has loaded (or given up): tests, benchmarks."""
        assert self._triage_task is not None
        await asyncio.wait_for(asyncio.shield(self._triage_task), timeout)

    async def _start_http(self) -> None:
        """The HTTP server (HOST, PORT): health, metrics, the webhook channel and the API."""
        s = self.settings
        server = HttpServer()
        assert self.triager is not None, "triage starts before the HTTP server"
        self.health = health.Health(
            sessions=self.sessions,
            triager=self.triager,
            slack_connected=self._slack_connected,
            imap=lambda: mailbox_health(self._mailbox),
            scheduler_running=lambda: bool(self._scheduler and self._scheduler.scheduler.running),
        )
        health.register(server.router, self.health)
        metrics.register(server.router, self.metrics)
        webhook_routes.register(
            server.router,
            self.cases,
            secret=s.webhook_secret,
            max_age_seconds=s.webhook_max_age_seconds,
            clock=self.clock,
        )
        api_routes.register(
            server.router,
            self.cases,
            ApiReads(self.sessions, clock=self.clock),
            self.ticket_worker.intake,
            tokens=self._api_tokens,
            per_minute=s.api_rate_per_minute,
            burst=s.api_rate_burst,
        )
        if self._routes is not None:
            self._routes(server.router)
        if s.webhook_secret and not s.webhook_reply_url:
            log.warning("WEBHOOK_REPLY_URL not set: webhook customers will get no replies")
        try:
            self.http_port = await server.start(s.host, s.port)
        except OSError as exc:
            raise ConfigError(
                f"PORT: cannot listen on {s.host}:{s.port} ({exc.strerror or exc})"
            ) from exc
        self._http_server = server

    async def _slack_connected(self) -> bool | None:
        """Whether Socket Mode is connected now (None: not set up yet)."""
        if self._handler is None:
            return None
        return bool(await self._handler.client.is_connected())

    @property
    def poller(self) -> ImapPoller | None:
        """The IMAP poller while this process holds the mailbox (None otherwise)."""
        current = self._mailbox.current if self._mailbox is not None else None
        return current if isinstance(current, ImapPoller) else None

    async def poller_connected(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until this process's IMAP poller has selected its mailbox (tests, health)."""
        mailbox = self._mailbox
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

        if self._http_server is not None:
            await self._http_server.stop()
        if self._handler is not None:
            # slack_sdk's close can wedge on a half-closed socket: bound it, never hang a stop.
            try:
                async with asyncio.timeout(grace(STOP_SECONDS)):
                    await self._handler.close_async()  # type: ignore[no-untyped-call]
            except Exception as error:  # stopping goes on whatever the socket did
                log.warning("Socket Mode did not close cleanly: %r", error)
        if self._triage_task is not None and not self._triage_task.done():
            # a model still loading: envelopes in hand are triaged by keyword rules instead
            self._triage_task.cancel()
            await asyncio.gather(self._triage_task, return_exceptions=True)
        # envelopes already acked: Slack will not send them again, so they are finished here
        await finish_listeners(within=grace(IN_HAND_SECONDS))
        if self._scheduler is not None:
            await self._scheduler.stop(within=grace(STOP_SECONDS))
        if self._poll_task is not None and self._mailbox is not None:
            self._mailbox.stop()
            await finish(self._poll_task, within=grace(STOP_SECONDS * 2))
        if self._ticket_task is not None:
            self.ticket_worker.stop()  # a ticket not filed yet waits in the database
            await finish(self._ticket_task, within=grace(STOP_SECONDS))
        if self._dispatch_task is not None:
            await flush_outbox(self.dispatcher, within=grace(FLUSH_SECONDS))
            self.dispatcher.stop()
            await finish(self._dispatch_task, within=grace(STOP_SECONDS))
            await self.dispatcher.release()
        if hasattr(self, "home"):
            await self.home.close()
        if self._heartbeat_task is not None and self._heartbeat is not None:
            self._heartbeat.stop()  # and says at once that this process is gone
            await finish(self._heartbeat_task, within=grace(STOP_SECONDS))
        if hasattr(self, "cases"):  # set once start got that far
            await self.cases.learning.stop()
        if self._http is not None:
            await self._http.close()
        if self.triager is not None:
            await self.triager.close()
        if self._engine is not None:
            await self._engine.dispose()

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

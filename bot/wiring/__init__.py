"""Wiring: the settings turned into connected parts, nothing started.

`wire` builds every service, edge and runner in dependency order; it starts no task (the
lifecycle in bot/runtime.py does that) and registers each resource it opens on `resources`,
so a failure half-way still closes what was opened. The services wake the outbox runner
through an event made first, and the runner is the last thing wired: nothing loops back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from slack_bolt.async_app import AsyncApp
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

import handlers.slack
from bot.config import agents_file, catalog, imap_config, smtp_config
from bot.delivery import Delivery, senders
from bot.dispatcher import OutboxDispatcher
from bot.exclusive import Exclusive
from bot.settings import ConfigError, Settings
from bot.ticket_worker import TicketWorker
from bot.wiring.mail import email_intake, email_notifier, imap_mailbox
from bot.wiring.reports import report_delivery, report_service
from bot.wiring.triage import build_triager
from handlers.email.smtp_sender import SmtpSender
from handlers.ops import metrics
from handlers.slack.catch_up import CatchUp
from handlers.slack.channels import UnknownChannel, resolve_channels
from handlers.slack.client import build_client
from handlers.slack.dedup import RecentIds, SharedEventIds, event_dedup_middleware
from handlers.slack.deps import SlackDeps
from handlers.slack.files import SlackFiles
from handlers.slack.home import HomePublisher
from handlers.slack.notifier import SlackNotifier
from handlers.slack.pacing import ChannelPacer
from handlers.slack.people import People
from handlers.slack.routing import Channels
from handlers.tickets.notifier import TicketNotifier
from handlers.webhook.notifier import WebhookNotifier
from services.api_reads import ApiReads
from services.cases import CaseService
from services.cases.follow_ups import FollowUpConfig, FollowUpSweep
from services.escalation import EscalationSweep
from services.home import Dashboard
from services.leases import Leases
from services.mailbox import MailboxState
from services.reminders import ReminderSweep
from services.reports import ReportService
from services.routing import AgentDirectory
from services.ticket_intake import TicketIntake
from services.tickets import TicketSync
from services.triage.service import Triager
from storage.availability import describe_failure
from storage.engine import (
    SessionFactory,
    create_engine,
    create_read_session_factory,
    create_session_factory,
    is_sqlite,
)
from storage.migrate import upgrade

log = logging.getLogger(__name__)


@dataclass
class Parts:
    """Everything one process runs, connected."""

    engine: AsyncEngine
    sessions: SessionFactory
    http: aiohttp.ClientSession
    metrics: metrics.Metrics
    leases: Leases
    channels: Channels
    dispatcher: OutboxDispatcher
    triager: Triager
    agents: AgentDirectory
    cases: CaseService
    home: HomePublisher
    reports: ReportService
    reads: ApiReads  # the desk's numbers and records, for the API and /case stats
    sweep: EscalationSweep
    reminders: ReminderSweep
    follow_ups: FollowUpSweep
    app: AsyncApp
    ticket_worker: TicketWorker
    mailbox: Exclusive | None  # the IMAP poller, run by one process at a time
    catch_up: CatchUp  # Slack messages acked but never stored, read back once connected


async def wire(
    s: Settings, *, clock: Callable[[], datetime], resources: AsyncExitStack, stop_within: float
) -> Parts:
    # A CATALOG_PATH URL is fetched here: off the event loop, which may serve other work.
    service_catalog = await asyncio.to_thread(catalog, s)
    agents_spec = agents_file(s)
    smtp, imap = smtp_config(s), imap_config(s)
    try:
        await upgrade(s.database_url)  # the first time the database is reached
    except (OSError, SQLAlchemyError) as error:
        # An unreachable or refused database at start: one line and a non-zero exit (the
        # supervisor restarts us), never a traceback or the password.
        raise ConfigError(describe_failure(s.database_url, error)) from None
    engine = create_engine(s.database_url)
    resources.push_async_callback(engine.dispose)  # closed last
    sessions = create_session_factory(engine)
    # Leases measure real time, whatever clock the rules run on.
    leases = Leases(sessions, ttl=timedelta(seconds=s.lease_seconds))
    await leases.heartbeat()
    http = aiohttp.ClientSession()
    resources.push_async_callback(http.close)
    client = build_client(str(s.slack_bot_token), s.slack_api_url, http)
    try:
        channels = await resolve_channels(
            client,
            support=str(s.support_slack_channel),
            alerts=s.alerting_slack_channel,
            log=s.logging_slack_channel,
            intake=s.intake_slack_channels,
            teams=service_catalog.teams(),
        )
    except UnknownChannel as error:  # one line and a non-zero exit, as a bad catalog gets
        raise ConfigError(f"{error.setting}: {error}") from None
    meter = metrics.Metrics(sessions)
    # The outbox runner is built last (its senders need the services), so the services
    # wake it through an event made first: no part refers to one not built yet.
    outbox_wakeup = asyncio.Event()
    wake = outbox_wakeup.set
    triager = build_triager(s, service_catalog, observe=meter.triaged)
    resources.push_async_callback(triager.close)
    agents = AgentDirectory(sessions, service_catalog)
    if agents_spec is not None:
        log.info("agents: %s loaded from AGENTS_PATH", await agents.load(agents_spec))
    read_sessions = create_read_session_factory(engine)
    cases = CaseService(
        sessions,
        rules=s.rules,
        clock=clock,
        notify=wake,
        triage=triager,
        storms=s.storms,
        sync_tickets=bool(s.ticket_api_url),
        read_sessions=read_sessions,
    )
    resources.push_async_callback(cases.learning.stop)  # a refit holds a session
    people = People(client, agent_user_ids=s.agent_user_ids, agent_usergroup=s.agent_usergroup)
    home = HomePublisher(
        client, Dashboard(sessions, clock=clock), people, channels, support_email=s.support_email
    )
    resources.push_async_callback(home.close)
    reports = report_service(s, sessions, clock=clock, notify=wake)
    webhook = (
        WebhookNotifier(
            http, s.webhook_reply_url, s.webhook_secret, clock=clock, voice=s.reply_voice
        )
        if s.webhook_secret and s.webhook_reply_url
        else None
    )
    tickets = (
        TicketNotifier(
            http,
            s.ticket_api_url,
            s.ticket_api_token,
            TicketSync(sessions, clock=clock, notify=wake),
            timeout=s.ticket_api_timeout_seconds,
        )
        if s.ticket_api_url
        else None
    )
    mail_out = SmtpSender(smtp) if smtp is not None else None  # one per process: its limit
    if mail_out is not None:
        resources.push_async_callback(mail_out.close)
    notifier = SlackNotifier(
        client,
        cases,
        channels,
        pacer=ChannelPacer(per_second=s.slack_posts_per_second),
        on_card=home.changed,
        people=people,
        voice=s.reply_voice,
    )
    dispatcher = OutboxDispatcher(
        sessions,
        Delivery(
            senders(
                cases,
                slack=notifier,
                reports=report_delivery(s, reports, client, mail_out, clock),
                email=(
                    email_notifier(
                        s,
                        mail_out,
                        sessions,
                        clock,
                        cases.reads.attachment,
                        notify=wake,
                        reads=read_sessions,
                    )
                    if mail_out
                    else None
                ),
                webhook=webhook,
                tickets=tickets,
            )
        ),
        wakeup=outbox_wakeup,
        clock=clock,
        lease=leases.ttl,
        holder=leases.holder,
        max_attempts=s.outbox_max_attempts,
        max_backoff=timedelta(seconds=s.outbox_retry_max_seconds),
        on_failure=meter.delivery_failed,
    )

    mailbox_state = MailboxState(sessions, clock=clock)
    reads = ApiReads(sessions, clock=clock)
    app = AsyncApp(client=client, request_verification_enabled=False)
    # One process: a set in memory. Several on one PostgreSQL: a table they all see.
    seen = RecentIds() if is_sqlite(s.database_url) else SharedEventIds(leases)
    app.middleware(event_dedup_middleware(seen))
    catch_up = handlers.slack.register(
        app,
        SlackDeps(
            cases=cases,
            people=people,
            channels=channels,
            mailbox=mailbox_state,
            agents=agents,
            home=home,
            reports=reports,
            desk=reads,
            case_reaction=s.case_reaction,
            files=SlackFiles(client, s.attachments),
        ),
    )
    ticket_worker = TicketWorker(
        TicketIntake(
            sessions,
            cases,
            holder=leases.holder,
            clock=clock,
            notify=lambda: ticket_worker.wake(),
        )
    )
    mailbox = None
    if imap is not None:
        intake = email_intake(s, cases, mailbox_state, sessions, clock=clock, notify=wake)
        mailbox = imap_mailbox(leases, imap, mailbox_state, intake, stop_within=stop_within)
    return Parts(
        engine=engine,
        sessions=sessions,
        http=http,
        metrics=meter,
        leases=leases,
        channels=channels,
        dispatcher=dispatcher,
        triager=triager,
        agents=agents,
        cases=cases,
        home=home,
        reports=reports,
        reads=reads,
        sweep=EscalationSweep(sessions, rules=s.rules, clock=clock, notify=wake),
        reminders=ReminderSweep(sessions, hours=s.reminder_hours, clock=clock, notify=wake),
        follow_ups=FollowUpSweep(
            sessions,
            FollowUpConfig(auto_close_days=s.auto_close_days, nudge_hours=s.customer_nudge_hours),
            clock=clock,
            notify=wake,
        ),
        app=app,
        ticket_worker=ticket_worker,
        mailbox=mailbox,
        catch_up=catch_up,
    )

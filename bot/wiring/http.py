"""The HTTP server's routes (HOST, PORT): health, metrics, the webhook channel, the API, the
rating links' page, and whatever the caller adds (the sandbox's page)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.config import api_tokens
from bot.http_server import HttpServer
from bot.settings import Settings
from bot.wiring import Parts
from bot.wiring.mail import mailbox_health
from handlers.api import routes as api_routes
from handlers.email import rating_page
from handlers.ops import health, metrics
from handlers.webhook import routes as webhook_routes

log = logging.getLogger(__name__)


def http_server(
    s: Settings,
    parts: Parts,
    *,
    slack_connected: Callable[[], Awaitable[bool | None]],
    scheduler_running: Callable[[], bool],
    extra: Callable[[web.UrlDispatcher], None] | None = None,
) -> tuple[HttpServer, health.Health]:
    server = HttpServer()
    checks = health.Health(
        sessions=parts.sessions,
        triager=parts.triager,
        slack_connected=slack_connected,
        imap=lambda: mailbox_health(parts.mailbox),
        scheduler_running=scheduler_running,
    )
    health.register(server.router, checks)
    metrics.register(server.router, parts.metrics)
    webhook_routes.register(
        server.router,
        parts.cases,
        secret=s.webhook_secret,
        max_age_seconds=s.webhook_max_age_seconds,
        clock=parts.cases.context.clock,
    )
    api_routes.register(
        server.router,
        parts.cases,
        parts.reads,
        parts.ticket_worker.intake,
        tokens=api_tokens(s),
        per_minute=s.api_rate_per_minute,
        burst=s.api_rate_burst,
    )
    rating_page.register(server.router, parts.cases)
    if extra is not None:
        extra(server.router)
    if s.webhook_secret and not s.webhook_reply_url:
        log.warning("WEBHOOK_REPLY_URL not set: webhook customers will get no replies")
    return server, checks

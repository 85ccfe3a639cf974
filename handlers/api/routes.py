"""Everything the API adds to the HTTP server, built once by the runtime."""

from __future__ import annotations

from aiohttp import web

from handlers.api import compat_incidents, compat_tickets, v1
from handlers.api.app import Api
from handlers.api.ratelimit import RateLimiter
from handlers.api.tokens import ApiToken
from services.api_reads import ApiReads
from services.cases import CaseService
from services.ticket_intake import TicketIntake


def register(
    router: web.UrlDispatcher,
    cases: CaseService,
    reads: ApiReads,
    tickets: TicketIntake,
    *,
    tokens: tuple[ApiToken, ...],
    per_minute: float,
    burst: int,
) -> Api:
    """Add `/api/v1/…`, the compatibility routes and `/api/openapi.json`; with no tokens
    every route answers 404."""
    api = Api(tokens=tokens, limiter=RateLimiter(per_minute=per_minute, burst=burst))
    v1.declare(api, cases, reads)
    compat_incidents.declare(api, cases, reads)
    compat_tickets.declare(api, cases, reads, tickets)
    api.register(router)
    return api

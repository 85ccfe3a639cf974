"""`POST /api/messages`: a provider's signed customer message into the case service.

Thin on purpose: refuse unsigned or stale requests (401) before looking at the JSON (422),
then one call to `CaseService.ingest`. Replies leave through the outbox, never from here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from handlers.webhook.inbound import InvalidField, parse_message
from handlers.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify
from services.cases import CaseService
from storage.availability import unavailable

log = logging.getLogger(__name__)

PATH = "/api/messages"
OFF = "webhook channel is off: set WEBHOOK_SECRET"


class MessagesEndpoint:
    """The request handler, holding what it needs; never open without a secret."""

    def __init__(
        self,
        cases: CaseService,
        *,
        secret: str | None,
        max_age_seconds: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._cases = cases
        self._secret = secret or None
        self._max_age = max_age_seconds
        self._clock = clock

    async def __call__(self, request: web.Request) -> web.Response:
        if self._secret is None:
            return web.json_response({"error": OFF}, status=404)
        body = await request.read()  # 413 past the server's body cap
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        try:
            verify(
                self._secret,
                body,
                timestamp=timestamp,
                signature_header=request.headers.get(SIGNATURE_HEADER),
                now=self._clock().timestamp(),
                max_age_seconds=self._max_age,
            )
        except SignatureError as exc:
            log.warning("webhook request from %s refused: %s", request.remote, exc)
            return web.json_response({"error": str(exc)}, status=401)
        assert timestamp is not None  # verified above
        try:
            inbound = parse_message(body, timestamp)
        except InvalidField as exc:
            return web.json_response(
                {"error": str(exc), "field": exc.field, "reason": exc.reason}, status=422
            )
        try:
            result = await self._cases.intake.ingest(inbound)
        except Exception as exc:
            if not unavailable(exc):
                raise
            log.warning("webhook message %s: database unavailable: %s", inbound.external_id, exc)
            return web.json_response(
                {"error": "storage is unavailable; nothing was stored, please retry"},
                status=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return web.json_response(
            {
                "case_number": result.case.number,
                "created": result.created,
                "duplicate": result.duplicate,
            },
            status=201 if result.created else 200,
        )


RETRY_AFTER_SECONDS = 5


def register(
    router: web.UrlDispatcher,
    cases: CaseService,
    *,
    secret: str | None,
    max_age_seconds: float,
    clock: Callable[[], datetime],
) -> None:
    """Add `POST /api/messages`; without a secret it answers 404 (the channel is off)."""
    router.add_post(
        PATH,
        MessagesEndpoint(cases, secret=secret, max_age_seconds=max_age_seconds, clock=clock),
    )

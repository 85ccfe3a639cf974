"""Delivers `ticket.sync` outbox items: the new case POSTed to the external ticket system.

Any failure (network, timeout, non-2xx, an answer without a usable id) raises, so the outbox
dispatcher retries it with its usual backoff and logs the reason (with the start of the
body). A 4xx is retried like the rest, not given up at once: it is usually a
misconfiguration (a wrong token or URL) that an operator fixes, and the outbox gives up
after OUTBOX_MAX_ATTEMPTS anyway (audited as `delivery.dead`). Retries are safe because
every request of one case carries the same `Idempotency-Key: case-<number>`: a system that
honours it answers a repeated sync (after a timeout, or a crash after the POST) with the
ticket it already made.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from handlers.tickets.response import ticket_id_from
from services.tickets import TicketSync
from services.types import CaseView
from storage.models import OutboxItem

TIMEOUT_SECONDS = 10.0
IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotency_key(case_number: int) -> str:
    return f"case-{case_number}"


def ticket_body(item: OutboxItem, view: CaseView) -> dict[str, Any]:
    """What the ticket system receives about a new case."""
    case, customer = view.case, view.customer
    return {
        "case_number": case.number,
        "category": case.category,
        "request_type": case.request_type,
        "subject": case.subject,
        "message": str(item.payload.get("message", view.last_customer_message)),
        "customer": {
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "slack_user_id": customer.slack_user_id,
        },
        "source": case.source,
        "urgency": case.urgency,
        "created_at": case.created_at.isoformat().replace("+00:00", "Z"),
    }


class TicketNotifier:
    """POSTs a new case as JSON to TICKET_API_URL and records the id it answers."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        token: str | None,
        sync: TicketSync,
        *,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._session = session
        self._url = url
        self._token = token
        self._sync = sync
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def deliver(self, item: OutboxItem, view: CaseView) -> None:
        number = view.case.number
        headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: idempotency_key(number)}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        # No redirects: the bearer token goes to TICKET_API_URL and nowhere else.
        async with self._session.post(
            self._url,
            data=json.dumps(ticket_body(item, view)).encode(),
            headers=headers,
            timeout=self._timeout,
            allow_redirects=False,
        ) as response:
            status, body = response.status, await response.read()
        await self._sync.record(case_id=number, ticket_id=ticket_id_from(status, body))

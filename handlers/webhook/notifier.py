"""Delivers customer-facing outbox items of webhook cases as signed POSTs to the provider.

Any failure (network, timeout, non-2xx) raises, so the outbox dispatcher retries with backoff;
the `X-Casebot-Delivery` header (the outbox row id) lets the receiver drop a retried duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import aiohttp

from handlers.webhook import texts
from handlers.webhook.signing import signed_headers
from services.outbox import OutboxKind
from services.types import TEAM_VOICE, CaseView, ReplyVoice
from storage.models import OutboxItem, utcnow

TIMEOUT_SECONDS = 10.0
DELIVERY_HEADER = "X-Casebot-Delivery"


def reply_text(item: OutboxItem, view: CaseView, voice: ReplyVoice = TEAM_VOICE) -> str:
    """What the customer reads for this outbox item."""
    number = view.case.number
    match OutboxKind(item.kind):
        case OutboxKind.CUSTOMER_ACK:
            return texts.acknowledgement(number)
        case OutboxKind.CUSTOMER_REPLY:
            author = str(item.payload.get("author", ""))
            return texts.agent_reply(str(item.payload.get("text", "")), voice.signature(author))
        case OutboxKind.CUSTOMER_RESOLVED:
            return texts.resolution(number)
        case OutboxKind.CUSTOMER_REMINDER:
            return texts.reminder(number)
        case OutboxKind.CUSTOMER_NUDGE:
            return texts.nudge(number)
        case _:
            raise ValueError(f"{item.kind} is not for customers")


class WebhookNotifier:
    """POSTs `{case_number, customer_id, channel, kind, message, sent_at}` to the reply URL."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        secret: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        clock: Callable[[], datetime] = utcnow,
        voice: ReplyVoice = TEAM_VOICE,
    ) -> None:
        self._voice = voice
        self._session = session
        self._url = url
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock

    async def deliver(self, item: OutboxItem, view: CaseView) -> None:
        case, customer = view.case, view.customer
        if not customer.phone:
            raise ValueError(f"case #{case.number}: the customer has no webhook identity")
        now = self._clock()
        body = json.dumps(
            {
                "case_number": case.number,
                "customer_id": customer.phone,
                "channel": case.origin_channel,
                "kind": item.kind.removeprefix("customer."),  # ack, reply, resolved, reminder
                "message": reply_text(item, view, self._voice),
                "sent_at": now.isoformat(),
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: str(item.id),
            **signed_headers(self._secret, body, now=now.timestamp()),
        }
        async with self._session.post(
            self._url,
            data=body,
            headers=headers,
            timeout=self._timeout,
            allow_redirects=False,
        ) as response:
            if not 200 <= response.status < 300:
                raise aiohttp.ClientResponseError(
                    response.request_info,
                    response.history,
                    status=response.status,
                    message=f"webhook reply refused: HTTP {response.status} {response.reason}",
                )

"""WebhookNotifier against a loopback receiver: signed JSON per kind, failures raise."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from handlers.webhook.notifier import WebhookNotifier
from handlers.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from services.outbox import OutboxKind
from services.types import CaseView
from storage.models import Case, Customer, OutboxItem
from tests.local_http import post_endpoint

SECRET = "notifier-secret"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
VIEW = CaseView(
    case=Case(id=7, customer_id=1, source="webhook", origin_channel="whatsapp", subject="hi"),
    customer=Customer(id=1, name="+4915700", phone="+4915700"),
    last_customer_message="hi",
)


class Endpoint:
    def __init__(self) -> None:
        self.status = 200
        self.delay = 0.0
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        await asyncio.sleep(self.delay)  # a slow provider, when a test sets one
        return web.Response(status=self.status)


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[str, Endpoint]]:
    found = Endpoint()
    async with post_endpoint("/in", found.handle) as url:
        yield url, found


def item(kind: OutboxKind, **payload: Any) -> OutboxItem:
    return OutboxItem(id=11, kind=kind.value, ordering_key="case:7", case_id=7, payload=payload)


@pytest.mark.parametrize(
    ("kind", "payload", "name", "words"),
    [
        (OutboxKind.CUSTOMER_ACK, {}, "ack", "Case #7 opened"),
        (
            OutboxKind.CUSTOMER_REPLY,
            {"text": " Try again now. ", "author": "agnes"},
            "reply",
            "Try again now.\n\nagnes",
        ),
        (OutboxKind.CUSTOMER_RESOLVED, {}, "resolved", "Case #7 has been resolved"),
        (OutboxKind.CUSTOMER_REMINDER, {}, "reminder", "case #7: it is still open"),
    ],
)
async def test_each_customer_kind_is_posted_as_signed_json(
    endpoint: tuple[str, Endpoint],
    kind: OutboxKind,
    payload: dict[str, Any],
    name: str,
    words: str,
) -> None:
    url, found = endpoint
    async with aiohttp.ClientSession() as session:
        await WebhookNotifier(session, url, SECRET, clock=lambda: NOW).deliver(
            item(kind, **payload), VIEW
        )

    [(headers, body)] = found.received
    verify(
        SECRET,
        body,
        timestamp=headers[TIMESTAMP_HEADER],
        signature_header=headers[SIGNATURE_HEADER],
        now=NOW.timestamp(),
        max_age_seconds=1,
    )
    sent = json.loads(body)
    assert set(sent) == {"case_number", "customer_id", "channel", "kind", "message", "sent_at"}
    assert (sent["case_number"], sent["customer_id"], sent["channel"], sent["kind"]) == (
        7,
        "+4915700",
        "whatsapp",
        name,
    )
    assert words in sent["message"] and "Slack" not in sent["message"]
    assert sent["sent_at"] == NOW.isoformat()
    assert headers["X-Casebot-Delivery"] == "11"


async def test_team_kinds_are_not_for_customers(endpoint: tuple[str, Endpoint]) -> None:
    url, found = endpoint
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match="not for customers"):
            await WebhookNotifier(session, url, SECRET).deliver(item(OutboxKind.CASE_CARD), VIEW)
    assert found.received == []


@pytest.mark.parametrize("status", [302, 400, 500, 503])
async def test_a_non_2xx_answer_raises_so_the_dispatcher_retries(
    endpoint: tuple[str, Endpoint], status: int
) -> None:
    url, found = endpoint
    found.status = status
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientResponseError, match=str(status)):
            await WebhookNotifier(session, url, SECRET).deliver(item(OutboxKind.CUSTOMER_ACK), VIEW)


async def test_an_unreachable_receiver_raises() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            await WebhookNotifier(session, f"http://127.0.0.1:{port}/in", SECRET).deliver(
                item(OutboxKind.CUSTOMER_ACK), VIEW
            )


async def test_a_receiver_that_hangs_times_out(endpoint: tuple[str, Endpoint]) -> None:
    url, found = endpoint
    found.delay = 5.0
    async with aiohttp.ClientSession() as session:
        notifier = WebhookNotifier(session, url, SECRET, timeout=0.2)
        with pytest.raises(TimeoutError):
            await notifier.deliver(item(OutboxKind.CUSTOMER_ACK), VIEW)

"""Issue 5: the SMTP server down for three minutes while customers write and agents answer.
Everything for the customers waits in the outbox (the cards and threads in Slack do not wait
for it), is retried throughout, and is delivered once the server is back: each mail once,
each customer's in the order written."""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from handlers.email.inbound import to_inbound
from handlers.email.parsing import parse_email
from services.outbox import OutboxKind
from storage.models import OutboxItem, OutboxStatus
from tests.e2e.conftest import AGENT, SUPPORT, card, mirrored
from tests.e2e.mail import SUPPORT_EMAIL, smtp_settings
from tests.smtp_server import Inbox, free_port, smtp_server

pytestmark = pytest.mark.slow  # a minute or more: started first (tests/conftest.py)

CUSTOMERS = 3
OUTAGE_SECONDS = 180.0
RETRY_MAX_SECONDS = 5.0  # retries this far apart at most, so the end of the outage is seen


def first_mail(n: int) -> bytes:
    return (
        f"From: Customer {n} <outage{n}@example.org>\r\nTo: {SUPPORT_EMAIL}\r\n"
        f"Subject: Parcel {n} lost\r\nMessage-ID: <outage-{n}@example.org>\r\n\r\n"
        f"Parcel {n} never arrived.\r\n"
    ).encode()


async def test_mail_waits_for_a_dead_smtp_server_and_goes_out_once_in_order(
    slack: SlackEmulator, start_bot: Callable[..., Any], backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("three minutes of wall time: once is enough (delivery does not depend on it)")
    port = free_port()  # nothing listens here yet: the server is down
    bot: Runtime = await start_bot(
        **smtp_settings(port),
        outbox_retry_max_seconds=RETRY_MAX_SECONDS,
        outbox_max_attempts=1000,
    )
    down_since = time.monotonic()
    for n in range(CUSTOMERS):
        await bot.cases.intake.ingest(to_inbound(parse_email(first_mail(n))))
    for n in range(CUSTOMERS):
        posted = await card(slack, n + 1)  # the team's stream does not wait for SMTP
        await slack.wait_for(lambda ts=posted["ts"]: mirrored(slack, ts), timeout=10)
        for k in range(2):
            await slack.user_message(
                AGENT, SUPPORT, f"Answer {k} to customer {n}", thread_ts=posted["ts"]
            )
    # The outage must really last: its rows are retried throughout, none given up.
    await asyncio.sleep(OUTAGE_SECONDS - (time.monotonic() - down_since))
    async with bot.sessions() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    waiting = [r for r in rows if r.ordering_key.endswith(":customer")]
    assert len(waiting) == 3 * CUSTOMERS
    assert all(r.status == OutboxStatus.PENDING for r in waiting)
    # The first mail of each customer is retried throughout (the later ones wait behind it).
    acks = [r for r in waiting if r.kind == OutboxKind.CUSTOMER_ACK.value]
    assert len(acks) == CUSTOMERS and all(r.attempts >= 20 for r in acks), [
        (r.kind, r.attempts) for r in waiting
    ]

    inbox = Inbox()
    with smtp_server(port=port, inbox=inbox):
        async with asyncio.timeout(60):
            while len(inbox.messages) < 3 * CUSTOMERS:  # noqa: ASYNC110 - another thread
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # nothing more may come
    ids = [str(m["Message-ID"]) for m in inbox.messages]
    assert len(ids) == len(set(ids)) == 3 * CUSTOMERS, "each mail once"
    sent: dict[str, list[str]] = defaultdict(list)
    for message, rcpts in zip(inbox.messages, inbox.recipients, strict=True):
        body = message.get_body(preferencelist=("plain",))
        text = str(body.get_content()) if body is not None else ""
        match = re.search(r"Answer (\d) to customer", text)
        sent[rcpts[0]].append(f"answer {match.group(1)}" if match else "acknowledgement")
    assert sent == {
        f"outage{n}@example.org": ["acknowledgement", "answer 0", "answer 1"]
        for n in range(CUSTOMERS)
    }
    async with bot.sessions() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    assert all(r.status == OutboxStatus.DONE for r in rows)

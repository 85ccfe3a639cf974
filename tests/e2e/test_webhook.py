"""SMS/WhatsApp customers through the webhook channel: signed requests in, signed replies out.

Everything goes over real HTTP: the test POSTs to the bot's own server, and a local aiohttp
receiver on loopback plays the provider's reply endpoint.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from sqlalchemy import func
from sqlmodel import select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from handlers.webhook.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    signed_headers,
)
from storage.models import Case, OutboxItem, OutboxStatus
from tests.e2e.conftest import AGENT, SUPPORT, card, cards, outbox_settled
from tests.e2e.webhook import PHONE, SECRET, Receiver, message, post


async def case_count(bot: Runtime) -> int:
    async with bot.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(Case))).one())


def slack_channels_written(slack: SlackEmulator) -> set[str]:
    return {str(call.args.get("channel")) for call in slack.calls_to("chat.postMessage")}


async def test_an_sms_customer_is_acknowledged_answered_and_continued(
    slack: SlackEmulator,
    start_bot: Callable[..., Any],
    receiver: Receiver,
    http: aiohttp.ClientSession,
) -> None:
    bot = await start_bot(webhook_secret=SECRET, webhook_reply_url=receiver.url)

    opened = await post(http, bot, message("My parcel never arrived"))

    assert (opened.status, opened.json) == (
        201,
        {"case_number": 1, "created": True, "duplicate": False},
    )
    posted = await card(slack, 1)
    assert "via webhook" in str(posted["blocks"]) and PHONE in str(posted["blocks"])
    mirror = await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    assert "My parcel never arrived" in mirror[0]["text"]
    [ack] = await receiver.replies(1)
    assert ack["case_number"] == 1 and ack["customer_id"] == PHONE and ack["channel"] == "sms"
    assert ack["kind"] == "ack" and ack["message"].startswith("Case #1 opened")
    assert "Slack" not in ack["message"] and ack["sent_at"]

    await slack.user_message(AGENT, SUPPORT, "We have re-shipped it today.", thread_ts=posted["ts"])
    reply = (await receiver.replies(2))[1]
    assert reply["kind"] == "reply" and reply["case_number"] == 1
    assert "We have re-shipped it today." in reply["message"]

    again = await post(http, bot, message("Thanks, tracking number?"))
    assert (again.status, again.json) == (
        200,
        {"case_number": 1, "created": False, "duplicate": False},
    )
    await slack.wait_for(
        lambda: any(
            "Thanks, tracking number?" in m["text"] for m in slack.replies(SUPPORT, posted["ts"])
        )
    )
    await outbox_settled(bot)
    assert len(receiver.received) == 2, "no second acknowledgement for a follow-up"
    assert len(cards(slack)) == 1 and await case_count(bot) == 1
    assert slack_channels_written(slack) == {SUPPORT}, "nothing for the customer went to Slack"
    assert receiver.received[1][0].get("X-Casebot-Delivery"), "a retried reply can be recognised"


async def test_unsigned_forged_stale_and_malformed_requests_are_refused(
    slack: SlackEmulator,
    start_bot: Callable[..., Any],
    receiver: Receiver,
    http: aiohttp.ClientSession,
) -> None:
    bot = await start_bot(webhook_secret=SECRET, webhook_reply_url=receiver.url)
    body = message("Please help")
    now = int(time.time())

    unsigned = await post(http, bot, body, headers={})
    forged = await post(http, bot, body, secret="not-the-secret")
    stale = await post(http, bot, body, now=now - 301)
    future = await post(http, bot, body, now=now + 3600)
    altered = await post(
        http,
        bot,
        body.replace("Please", "Close it"),
        headers={
            TIMESTAMP_HEADER: str(now),
            SIGNATURE_HEADER: signature(SECRET, now, body.encode()),
        },
    )
    for answer in (unsigned, forged, stale, future, altered):
        assert answer.status == 401 and answer.json["error"]
    assert "missing" in unsigned.json["error"] and "stale" in stale.json["error"]
    assert "bad signature" in forged.json["error"] and "bad signature" in altered.json["error"]

    garbage = await post(http, bot, "{not json")
    assert garbage.status == 422 and garbage.json["field"] == "body"
    missing = await post(http, bot, json.dumps({"customer_id": PHONE, "channel": "sms"}))
    assert (missing.status, missing.json["field"], missing.json["reason"]) == (
        422,
        "message",
        "required",
    )
    long_id = await post(http, bot, message("hi", customer_id="9" * 33))
    assert (long_id.status, long_id.json["field"]) == (422, "customer_id")
    channel = await post(http, bot, body.replace('"sms"', '"S M S"'))
    assert (channel.status, channel.json["field"]) == (422, "channel")
    huge = await post(http, bot, message("x" * (1024 * 1024)))
    assert huge.status == 413 and huge.json["error"]

    assert await case_count(bot) == 0
    await bot.dispatcher.drain_once()
    assert cards(slack) == [] and receiver.received == []


async def test_a_replayed_request_is_a_duplicate_and_opens_nothing(
    slack: SlackEmulator,
    start_bot: Callable[..., Any],
    receiver: Receiver,
    http: aiohttp.ClientSession,
) -> None:
    bot = await start_bot(webhook_secret=SECRET, webhook_reply_url=receiver.url)
    body = message("Where is my refund?").encode()
    headers = signed_headers(SECRET, body, now=time.time())

    first = await post(http, bot, body, headers=headers)
    replayed = await post(http, bot, body, headers=headers)

    assert first.status == 201 and first.json["case_number"] == 1
    assert (replayed.status, replayed.json) == (
        200,
        {"case_number": 1, "created": False, "duplicate": True},
    )
    # The provider's own message id wins over the request: a re-sent message is one message.
    other = message("Out of credit", customer_id="+15550002", message_id="SM-42")
    assert (await post(http, bot, other, now=time.time() - 10)).json["case_number"] == 2
    resent = await post(http, bot, other)
    assert (resent.status, resent.json) == (
        200,
        {"case_number": 2, "created": False, "duplicate": True},
    )

    posted = await card(slack, 1)
    await card(slack, 2)
    await outbox_settled(bot)
    assert await case_count(bot) == 2 and len(cards(slack)) == 2
    assert len(slack.replies(SUPPORT, posted["ts"])) == 1, "the replay was not mirrored"
    acks = await receiver.replies(2)
    assert len(receiver.received) == 2 and sorted(a["case_number"] for a in acks) == [1, 2]


async def test_replies_wait_for_a_provider_that_is_down_and_arrive_once_it_recovers(
    slack: SlackEmulator,
    start_bot: Callable[..., Any],
    receiver: Receiver,
    http: aiohttp.ClientSession,
) -> None:
    receiver.down_for = 3
    bot = await start_bot(
        webhook_secret=SECRET, webhook_reply_url=receiver.url, outbox_retry_max_seconds=0.1
    )

    assert (await post(http, bot, message("Is my number ported?"))).status == 201

    [ack] = await receiver.replies(1)
    assert ack["kind"] == "ack" and receiver.refused == 3
    await outbox_settled(bot)
    async with bot.sessions() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    [ack_row] = [r for r in rows if r.kind == "customer.ack"]
    assert ack_row.status == OutboxStatus.DONE and ack_row.attempts == 3
    assert "500" in str(ack_row.last_error)
    assert len(receiver.received) == 1, "delivered once"


async def test_without_a_reply_url_nothing_for_a_webhook_customer_goes_to_slack(
    slack: SlackEmulator, start_bot: Callable[..., Any], http: aiohttp.ClientSession
) -> None:
    bot = await start_bot(webhook_secret=SECRET)

    assert (await post(http, bot, message("Hello?"))).status == 201

    async def ack_given_up() -> OutboxItem | None:
        async with bot.sessions() as session:
            rows = (await session.exec(select(OutboxItem))).all()
        return next((r for r in rows if r.kind == "customer.ack" and r.attempts >= 1), None)

    async with asyncio.timeout(10):
        while (row := await ack_given_up()) is None:  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.05)
    # Nothing here can deliver it, so it is given up at once (not retried for two hours),
    # never sent to Slack, and holds back nothing of the team's.
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, 1)
    assert "WEBHOOK_REPLY_URL is not set" in str(row.last_error)
    posted = await card(slack, 1)
    await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    assert slack_channels_written(slack) == {SUPPORT}


async def test_the_channel_is_off_without_a_secret(
    slack: SlackEmulator, bot: Runtime, http: aiohttp.ClientSession
) -> None:
    answer = await post(http, bot, message("Hello?"), secret="")

    assert (answer.status, answer.json) == (
        404,
        {"error": "webhook channel is off: set WEBHOOK_SECRET"},
    )
    assert await case_count(bot) == 0

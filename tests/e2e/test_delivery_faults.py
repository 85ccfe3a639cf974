"""Slack failing for a while delays deliveries; it never loses or reorders them."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlmodel import col, select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from services.types import Actor
from storage.models import Case, Customer, OutboxItem, OutboxStatus
from tests.e2e.conftest import (
    AGENT,
    CUSTOMER,
    INTAKE,
    OTHER_CUSTOMER,
    SUPPORT,
    card,
    cards,
    mirrored,
    outbox_settled,
)


async def test_rate_limits_server_errors_and_dropped_connections_are_retried(
    slack: SlackEmulator, bot: Runtime
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=1, count=1)
    slack.fail_next("chat.postMessage", status=500, count=2)
    slack.fail_next("chat.postMessage", drop=True, count=1)

    message = await slack.user_message(CUSTOMER, INTAKE, "Is anyone there?")

    posted = await card(slack, 1)
    mirror = await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]), timeout=20)
    assert "Is anyone there?" in mirror[0]["text"]
    ack = await slack.wait_for(lambda: slack.replies(INTAKE, message["ts"]), timeout=20)
    assert len(ack) == 1
    failed = [c for c in slack.calls_to("chat.postMessage") if not c.ok]
    assert len(failed) >= 3, "the faults were really served"
    await outbox_settled(bot)
    async with bot.sessions() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    assert rows and all(r.status == OutboxStatus.DONE for r in rows)


async def test_a_rate_limit_past_the_clients_retries_waits_for_retry_after_not_a_backoff(
    slack: SlackEmulator, bot: Runtime
) -> None:
    """A 429 that outlives the client's own retries (a storm of card updates against
    chat.update's 50 a minute) goes again when Slack's Retry-After says. Counted as a failed
    attempt it would back off 1, 2, 4 … 300 s, and a busy channel's cards would lag minutes
    behind a limit that frees in seconds."""
    await slack.user_message(CUSTOMER, INTAKE, "Is anyone there?")
    await card(slack, 1)
    await outbox_settled(bot)
    slack.fail_next("chat.update", status=429, retry_after=1, count=6)  # 4 per attempt

    await bot.cases.agents.claim(case_id=1, actor=Actor(id=AGENT, name="agnes", is_agent=True))

    await card(slack, 1, status="assigned", within=15)
    limited = [c for c in slack.calls_to("chat.update") if c.error == "ratelimited"]
    assert len(limited) == 6, "more 429s than the client retries: the outbox saw some"
    await outbox_settled(bot)
    async with bot.sessions() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    assert rows and all(r.status == OutboxStatus.DONE for r in rows)
    assert [r.attempts for r in rows] == [0] * len(rows), "a rate limit is not a failure"


async def test_a_refusing_slack_holds_later_deliveries_of_the_case_back_in_order(
    slack: SlackEmulator, bot: Runtime
) -> None:
    slack.fail_next("chat.postMessage", error="fatal_error", count=2)  # not retried by the client

    await slack.user_message(CUSTOMER, INTAKE, "first")
    await slack.user_message(CUSTOMER, INTAKE, "second")

    posted = await card(slack, 1, where=lambda m: True)
    texts = await slack.wait_for(
        lambda: len(mirrored(slack, posted["ts"])) == 2 and mirrored(slack, posted["ts"]),
        timeout=20,
    )
    assert texts == ["first", "second"]
    async with bot.sessions() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    assert max(r.attempts for r in rows) >= 1


async def test_a_card_posted_but_not_recorded_is_found_again_not_posted_twice(
    slack: SlackEmulator, bot: Runtime
) -> None:
    """A crash between chat.postMessage and storing the card's ts (measured by the kill -9
    test) must not leave two cards: the retry finds the first by its message metadata."""
    await slack.user_message(CUSTOMER, INTAKE, "Where is my parcel?")
    first = await card(slack, 1)
    await outbox_settled(bot)
    async with bot.sessions() as session, session.begin():
        case = await session.get(Case, 1)
        assert case is not None and case.card_attempted_at is not None
        case.card_ts = case.card_channel = None  # as if the process died right after posting

    await bot.cases.agents.claim(case_id=1, actor=Actor(id=AGENT, name="agnes", is_agent=True))

    updated = await card(slack, 1, status="assigned")
    assert updated["ts"] == first["ts"] and len(cards(slack)) == 1
    assert (await bot.cases.reads.get(1)).card_ts == first["ts"]
    assert [c for c in slack.calls_to("conversations.history") if c.ok], "it looked first"


OUTAGE_SECONDS = 60


@pytest.mark.slow
async def test_a_minute_of_slack_failing_every_way_delays_but_never_loses_or_reorders(
    slack: SlackEmulator, bot: Runtime, backend: str
) -> None:
    """For a whole minute every post and update answers 429 with Retry-After, 500, 503 or a
    dropped connection, in turn, while customers write and an agent claims a case. After
    it, every card, mirror, acknowledgement and card update arrives, once and in order."""
    if backend != "sqlite":
        pytest.skip("a minute of wall time: once is enough (delivery does not depend on it)")
    customers = [CUSTOMER, OTHER_CUSTOMER, "UC3"]
    slack.add_user("UC3", "erin")
    slack.outage("chat.postMessage", "chat.update", seconds=OUTAGE_SECONDS)
    started = time.monotonic()
    firsts = {}
    for round_ in range(3):
        for customer in customers:
            sent = await slack.user_message(customer, INTAKE, f"{customer} says {round_}")
            firsts.setdefault(customer, sent)
        if round_ == 1:
            await bot.cases.agents.claim(
                case_id=1, actor=Actor(id=AGENT, name="agnes", is_agent=True)
            )
        await asyncio.sleep(15)  # pacing: the three rounds spread over the outage
    assert time.monotonic() - started < OUTAGE_SECONDS, "all of it happened during the outage"
    assert not cards(slack), "nothing got through the outage"

    await outbox_settled(bot, within=150)  # retries keep their backoff: up to ~80 s more
    async with bot.sessions() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    assert all(r.status == OutboxStatus.DONE for r in rows), "nothing given up on"
    assert max(r.attempts for r in rows) >= 4, "deliveries really failed for a while"
    assert slack.faults.served_in_outage >= 20, "the outage was really served"

    assert len(cards(slack)) == 3, "one card per case, however often posting failed"
    await card(slack, 1, status="assigned")  # the claim made during the outage
    async with bot.sessions() as session:  # numbered as classified, not as written
        number_of = {
            slack_id: int(number or 0)
            for number, slack_id in await session.exec(
                select(Case.id, Customer.slack_user_id).join(
                    Customer, col(Customer.id) == col(Case.customer_id)
                )
            )
        }
    for customer in customers:
        posted = await card(slack, number_of[customer])
        assert mirrored(slack, posted["ts"]) == [f"{customer} says {n}" for n in range(3)], (
            "each message once, in the order written"
        )
        acks = slack.replies(INTAKE, firsts[customer]["ts"])
        assert len(acks) == 1, "one acknowledgement per customer"

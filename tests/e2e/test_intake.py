"""Customers write in the intake channel or by DM: one case, one card, one acknowledgement."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Callable
from typing import Any

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from tests.e2e.conftest import (
    AGENT,
    ALERTS,
    CUSTOMER,
    INTAKE,
    OTHER_CUSTOMER,
    RANDOM,
    SUPPORT,
    buttons,
    card,
    cards,
    mirrored,
)


async def test_intake_message_opens_a_case_with_card_and_acknowledgement(
    slack: SlackEmulator, bot: Runtime
) -> None:
    message = await slack.user_message(CUSTOMER, INTAKE, "I was charged twice for order 1234")

    posted = await card(slack, 1, status="open")
    assert set(buttons(posted)) == {
        "case_claim",
        "case_resolve",
        "case_escalate",
        "case_close",
        "case_suggest",
    }
    assert all(value == "1" for value in buttons(posted).values())
    ack = await slack.wait_for(lambda: slack.replies(INTAKE, message["ts"]))
    assert "case #1" in ack[0]["text"]
    mirror = await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    assert "I was charged twice for order 1234" in mirror[0]["text"]
    assert len(cards(slack)) == 1


async def test_dm_to_the_bot_opens_a_case_and_is_answered_in_the_dm(
    slack: SlackEmulator, bot: Runtime
) -> None:
    dm = slack.open_dm(OTHER_CUSTOMER)
    await slack.user_message(OTHER_CUSTOMER, dm, "Can't log in")

    await card(slack, 1)
    ack = await slack.wait_for(
        lambda: [m for m in slack.messages(dm) if m.get("bot_id") and "case #1" in m["text"]]
    )
    assert len(ack) == 1


async def test_follow_ups_update_one_card_and_alert_once(
    slack: SlackEmulator, bot: Runtime
) -> None:
    first = await slack.user_message(CUSTOMER, INTAKE, "hello")
    posted = await card(slack, 1)
    for text in ("anyone?", "hello??", "still waiting"):
        await slack.user_message(CUSTOMER, INTAKE, text)

    await slack.wait_for(lambda: len(mirrored(slack, posted["ts"])) == 4)
    alerts = await slack.wait_for(lambda: slack.messages(ALERTS))
    await card(slack, 1, where=lambda m: "follow-ups" in str(m["blocks"]))
    await bot.dispatcher.drain_once()
    assert len(slack.messages(ALERTS)) == 1 and "Case #1" in alerts[0]["text"]
    assert "followups" in alerts[0]["text"]
    assert len(cards(slack)) == 1, "the card is updated in place, never re-posted"
    assert slack.calls_to("chat.update"), "changes reach the card through chat.update"
    acks = [m for m in slack.replies(INTAKE, first["ts"]) if m.get("bot_id")]
    assert len(acks) == 1, "only the first message is acknowledged"


async def test_urgent_keyword_alerts(slack: SlackEmulator, bot: Runtime) -> None:
    await slack.user_message(CUSTOMER, INTAKE, "My account is locked, this is an EMERGENCY")

    alerts = await slack.wait_for(lambda: slack.messages(ALERTS))
    assert "Case #1" in alerts[0]["text"] and "keyword" in alerts[0]["text"]


async def test_agents_and_other_channels_are_not_intake(slack: SlackEmulator, bot: Runtime) -> None:
    await slack.user_message(AGENT, INTAKE, "Reminder: standup at 10")
    await slack.user_message(CUSTOMER, RANDOM, "lunch?")
    await slack.user_message(CUSTOMER, INTAKE, "real question")

    await card(slack, 1)
    assert len(cards(slack)) == 1
    assert "real question" in str((await card(slack, 1))["blocks"])


async def test_redelivered_envelope_and_event_have_one_effect(
    slack: SlackEmulator, bot: Runtime
) -> None:
    message = await slack.user_message(CUSTOMER, INTAKE, "duplicate me")
    original = copy.deepcopy(slack.last_envelope)
    assert original is not None
    await card(slack, 1)

    again = copy.deepcopy(original)
    again["envelope_id"] = str(uuid.uuid4())  # Slack's retry: same event, new envelope
    await slack.send_envelope(again)
    other_event = copy.deepcopy(original)
    other_event["envelope_id"] = str(uuid.uuid4())
    other_event["payload"]["event_id"] = "Ev" + uuid.uuid4().hex[:10].upper()  # same message ts
    await slack.send_envelope(other_event)
    await slack.user_message(CUSTOMER, INTAKE, "a real second message")
    posted = await card(slack, 1)
    await slack.wait_for(lambda: len(mirrored(slack, posted["ts"])) == 2)
    await bot.dispatcher.drain_once()

    assert mirrored(slack, posted["ts"]) == ["duplicate me", "a real second message"]
    assert len([m for m in slack.replies(INTAKE, message["ts"]) if m.get("bot_id")]) == 1
    assert len(cards(slack)) == 1
    case = await bot.cases.reads.get(1)
    assert case.consecutive_customer_messages == 2


async def test_a_burst_of_messages_is_mirrored_in_the_order_written(
    slack: SlackEmulator, bot: Runtime
) -> None:
    sent = [f"part {i}" for i in range(8)]
    for text in sent:  # each is acked at once; the bot handles them concurrently
        await slack.user_message(CUSTOMER, INTAKE, text)

    posted = await card(slack, 1)
    shown = await slack.wait_for(
        lambda: len(mirrored(slack, posted["ts"])) == len(sent) and mirrored(slack, posted["ts"]),
        timeout=15,
    )
    assert shown == sent
    assert len(cards(slack)) == 1


async def test_a_slack_customer_gets_one_reminder_while_the_case_is_open(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    await start_bot(reminder_hours=1 / 3600, escalation_check_interval=0.3)
    message = await slack.user_message(CUSTOMER, INTAKE, "My export never finishes")

    await card(slack, 1)
    replies = await slack.wait_for(
        lambda: [
            m for m in slack.replies(INTAKE, message["ts"]) if "haven't forgotten" in m["text"]
        ]
    )
    await asyncio.sleep(1.0)  # three more sweeps: a second reminder would be out by now
    assert len(replies) == 1
    assert "case #1" in replies[0]["text"]
    assert [m["text"] for m in slack.replies(INTAKE, message["ts"])].count(replies[0]["text"]) == 1

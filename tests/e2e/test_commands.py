"""`/case` and `/queue`, including the garbage people type."""

from __future__ import annotations

import pytest

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from services.mailbox import MailboxState
from tests.e2e.conftest import AGENT, CUSTOMER, INTAKE, OTHER_CUSTOMER, STRANGER, card
from tests.e2e.slack_ui import answer


async def two_cases(slack: SlackEmulator) -> None:
    await slack.user_message(CUSTOMER, INTAKE, "Refund for order 77 missing")
    await card(slack, 1)
    await slack.user_message(OTHER_CUSTOMER, INTAKE, "App crashes - this is critical")
    await card(slack, 2)


@pytest.mark.parametrize("text", ["", "help", "HELP", "?"])
async def test_case_help(slack: SlackEmulator, bot: Runtime, text: str) -> None:
    body = await answer(slack, AGENT, "/case", text)
    assert "/case find" in body["text"] and "/queue next" in body["text"]


@pytest.mark.parametrize("text", ["1", "#1", "  #1  "])
async def test_case_by_number_shows_the_card(slack: SlackEmulator, bot: Runtime, text: str) -> None:
    await two_cases(slack)
    body = await answer(slack, AGENT, "/case", text)
    assert body["text"].startswith("Case #1 (open)")
    assert "Refund for order 77 missing" in str(body["blocks"])


async def test_case_find(slack: SlackEmulator, bot: Runtime) -> None:
    await two_cases(slack)
    body = await answer(slack, AGENT, "/case", "find ORDER 77")
    assert "#1" in str(body["blocks"]) and "#2" not in str(body["blocks"])
    nothing = await answer(slack, AGENT, "/case", "find zebra")
    assert "No case mentions" in str(nothing["blocks"])
    empty = await answer(slack, AGENT, "/case", "find   ")
    assert "Tell me what to look for" in empty["text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("999", "There is no case #999."),
        ("#0", "There is no case #0."),
        ("banana", "I don't understand `banana`"),
        ("1 2 3", "I don't understand"),
        ("-5", "I don't understand"),
        ("`rm -rf`", "I don't understand `'rm -rf'`"),
        ("99999999999999999999", "I don't understand"),
        ("find " + "x" * 500, "too long"),
        ("\u202e\u0000", "I don't understand"),
    ],
)
async def test_case_garbage_gets_a_helpful_answer(
    slack: SlackEmulator, bot: Runtime, text: str, expected: str
) -> None:
    body = await answer(slack, AGENT, "/case", text)
    assert expected in body["text"]


async def test_case_is_for_agents(slack: SlackEmulator, bot: Runtime) -> None:
    await two_cases(slack)
    body = await answer(slack, STRANGER, "/case", "1")
    assert "Only support agents" in body["text"] and "Refund" not in str(body)


async def test_queue_lists_by_priority_and_next_claims(slack: SlackEmulator, bot: Runtime) -> None:
    await two_cases(slack)

    body = await answer(slack, AGENT, "/queue", "")
    listing = str(body["blocks"])
    assert listing.index("#2") < listing.index("#1"), "the escalated case comes first"

    claimed = await answer(slack, AGENT, "/queue", "next")
    assert claimed["text"] == "You claimed case #2."
    await card(slack, 2, status="assigned")
    assert (await answer(slack, AGENT, "/queue", "NEXT"))["text"] == "You claimed case #1."
    assert "No unassigned case" in (await answer(slack, AGENT, "/queue", "next"))["text"]


@pytest.mark.parametrize("text", ["later", "next next", "12"])
async def test_queue_garbage(slack: SlackEmulator, bot: Runtime, text: str) -> None:
    body = await answer(slack, AGENT, "/queue", text)
    assert "I don't understand" in body["text"] and "/queue next" in body["text"]


async def test_queue_is_for_agents(slack: SlackEmulator, bot: Runtime) -> None:
    body = await answer(slack, STRANGER, "/queue", "next")
    assert "Only support agents" in body["text"]


async def test_case_quarantine_lists_what_could_not_be_read(
    slack: SlackEmulator, bot: Runtime
) -> None:
    assert (await answer(slack, AGENT, "/case", "quarantine"))[
        "text"
    ] == "Nothing is in quarantine."
    state = MailboxState(bot.sessions)
    await state.quarantine(
        source="email", raw=b"garbage", reason="no header lines found; not an email"
    )

    body = await answer(slack, AGENT, "/case", "QUARANTINE")
    assert body["text"] == "1 item(s) in quarantine"
    assert "not an email" in str(body["blocks"]) and "7 bytes" in str(body["blocks"])
    refused = await answer(slack, STRANGER, "/case", "quarantine")
    assert "Only support agents" in refused["text"]

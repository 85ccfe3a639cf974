"""A customer edits or deletes a message after it became part of a case: the case's copy
follows, the audit trail keeps what it said before, and the card's thread says so (a deleted
message's text is not posted again)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from tests.e2e.conftest import AGENT, CUSTOMER, INTAKE, JSON, SUPPORT, open_case


def card_thread(slack: SlackEmulator, posted: JSON) -> list[str]:
    return [m["text"] for m in slack.replies(SUPPORT, posted["ts"])]


async def test_an_edit_and_a_deletion_reach_the_case_and_its_card_thread(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    bot: Runtime = await start_bot()
    first, posted = await open_case(slack, "My card is blocked since this morning")
    second = await slack.user_message(
        CUSTOMER, INTAKE, "My PIN is 1234 if that helps", thread_ts=first["ts"]
    )
    await slack.wait_for(lambda: any("PIN" in t for t in card_thread(slack, posted)) or None)

    await slack.edit_message(CUSTOMER, INTAKE, first["ts"], "Both my cards are blocked <!channel>")
    edited = await slack.wait_for(
        lambda: next((t for t in card_thread(slack, posted) if "edited their message" in t), None)
    )
    assert "Both my cards are blocked" in edited
    assert "<!channel>" not in edited, "the new text is written literally, as every mirror"

    await slack.delete_by_author(CUSTOMER, INTAKE, second["ts"])
    gone = await slack.wait_for(
        lambda: next((t for t in card_thread(slack, posted) if "deleted their message" in t), None)
    )
    assert "1234" not in gone, "a deleted message's text is not posted again"

    record = await bot.parts.reads.record(1)
    bodies = {
        m.external_id: (m.body, m.edited_at is not None, m.deleted_at is not None)
        for m in record.messages
    }
    assert bodies[f"{INTAKE}:{first['ts']}"] == ("Both my cards are blocked @channel", True, False)
    assert bodies[f"{INTAKE}:{second['ts']}"][1:] == (False, True)
    changes = [(e.action, dict(e.data)) for e in record.audit if e.action.startswith("message.")]
    assert [
        (action, data.get("before")) for action, data in changes if action != "message.received"
    ] == [
        ("message.edited", "My card is blocked since this morning"),
        ("message.deleted", "My PIN is 1234 if that helps"),
    ]
    assert record.case.status == "open", "a change is no new message: nothing reopens or escalates"


async def test_changes_that_are_not_a_customers_case_message_change_nothing(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    bot: Runtime = await start_bot()
    first, posted = await open_case(slack, "My card is blocked since this morning")
    chatter = await slack.user_message(AGENT, INTAKE, "Looking into the card outage now")

    await slack.edit_message(AGENT, INTAKE, chatter["ts"], "Card outage: fixed")
    await slack.edit_message(CUSTOMER, INTAKE, first["ts"], "My card is blocked since this morning")
    marker = await slack.user_message(CUSTOMER, INTAKE, "Still blocked", thread_ts=first["ts"])
    await slack.wait_for(
        lambda: any("Still blocked" in t for t in card_thread(slack, posted)) or None
    )
    assert not any("edited" in t for t in card_thread(slack, posted)), (
        "an agent's chatter and an edit that changed nothing are not news"
    )
    record = await bot.parts.reads.record(1)
    assert not [e for e in record.audit if e.action == "message.edited"]
    assert marker["ts"]

"""The undo window on an agent's thread reply (REPLY_UNDO_SECONDS): the reply waits in the
outbox, its author sees *Sending in N s · Undo*, and the Undo button, an edit or a deletion of
the Slack message reach it while it waits; after that, nothing half-happens. Notes and the
closure phrase are not held, and a restart inside the window loses nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from tests.e2e.conftest import AGENT, INTAKE, JSON, STRANGER, SUPPORT, card, open_case

WINDOW = 2.0  # seconds: long enough to act in, short enough to wait out


def relayed(slack: SlackEmulator, asked: JSON) -> list[str]:
    """What the customer has read from us in their thread, after the acknowledgement."""
    return [
        m["text"]
        for m in slack.replies(INTAKE, asked["ts"])
        if m.get("bot_id") and "opened *case #" not in m["text"]
    ]


async def undo_offer(slack: SlackEmulator, reply: JSON) -> JSON:
    """The ephemeral *Sending in N s · Undo* the reply's author got in the thread."""

    def find() -> JSON | None:
        return next(
            (
                e
                for e in slack.ephemerals
                if e["user"] == reply["user"]
                and e.get("thread_ts") == reply["thread_ts"]
                and e["text"].startswith("Sending in ")
                and reply["ts"] in str(e.get("blocks"))
            ),
            None,
        )

    return await slack.wait_for(find)


async def said_to(slack: SlackEmulator, user: str, text: str) -> None:
    await slack.wait_for(
        lambda: any(e["text"] == text for e in slack.ephemerals if e["user"] == user)
    )


async def audited(bot: Runtime, action: str) -> list[dict[str, Any]]:
    record = await bot.parts.reads.record(1)
    return [dict(e.data) for e in record.audit if e.action == action]


async def test_undo_in_the_window_withdraws_the_reply(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    bot: Runtime = await start_bot(reply_undo_seconds=WINDOW)
    asked, posted = await open_case(slack, "My card is blocked since this morning")

    wrong = await slack.user_message(
        AGENT, SUPPORT, "Your refund is on its way", thread_ts=posted["ts"]
    )
    offer = await undo_offer(slack, wrong)
    assert offer["text"] == "Sending in 2 s · Undo"
    assert relayed(slack, asked) == [], "held for the window"

    forged = await slack.click(STRANGER, SUPPORT, offer["ts"], "reply_undo")
    await slack.wait_for(lambda: forged.responses)
    clicked = await slack.click(AGENT, SUPPORT, offer["ts"], "reply_undo")
    await slack.wait_for(lambda: clicked.responses)
    assert offer["text"] == "Withdrawn: the customer will not get this reply."
    assert offer["blocks"] is None, "the button is gone"

    await slack.user_message(AGENT, SUPPORT, "We unblocked your card", thread_ts=posted["ts"])
    await slack.wait_for(lambda: relayed(slack, asked))
    assert relayed(slack, asked) == ["We unblocked your card"], "the withdrawn one never went"
    [withdrawn] = await audited(bot, "reply.withdrawn")
    assert withdrawn["how"] == "undo" and withdrawn["text"] == "Your refund is on its way"
    assert "refused" in [e.action for e in (await bot.parts.reads.record(1)).audit]


async def test_editing_in_the_window_changes_what_is_sent_and_deleting_cancels(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    bot: Runtime = await start_bot(reply_undo_seconds=WINDOW)
    asked, posted = await open_case(slack, "My card is blocked since this morning")

    typo = await slack.user_message(AGENT, SUPPORT, "Try agian now", thread_ts=posted["ts"])
    await undo_offer(slack, typo)
    await slack.edit_message(AGENT, SUPPORT, typo["ts"], "Try again now, please")
    await said_to(slack, AGENT, "Edited in time: the customer will get the new text.")

    extra = await slack.user_message(AGENT, SUPPORT, "Sorry for the wait!", thread_ts=posted["ts"])
    await undo_offer(slack, extra)
    await slack.delete_by_author(AGENT, SUPPORT, extra["ts"])
    await said_to(slack, AGENT, "Deleted in time: the customer will not get this reply.")

    await slack.user_message(AGENT, SUPPORT, "Anything else?", thread_ts=posted["ts"])
    await slack.wait_for(lambda: len(relayed(slack, asked)) == 2, timeout=15)
    assert relayed(slack, asked) == ["Try again now, please", "Anything else?"]
    [edit] = await audited(bot, "reply.edited")
    assert (edit["before"], edit["after"]) == ("Try agian now", "Try again now, please")
    assert [w["how"] for w in await audited(bot, "reply.withdrawn")] == ["deleted"]


async def test_after_the_window_nothing_can_be_taken_back(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    await start_bot(reply_undo_seconds=0.5)
    asked, posted = await open_case(slack, "My card is blocked since this morning")

    reply = await slack.user_message(AGENT, SUPPORT, "Done, it works now", thread_ts=posted["ts"])
    offer = await undo_offer(slack, reply)
    await slack.wait_for(lambda: relayed(slack, asked) == ["Done, it works now"])

    clicked = await slack.click(AGENT, SUPPORT, offer["ts"], "reply_undo")
    await slack.wait_for(lambda: clicked.responses)
    assert offer["text"] == "Too late to undo: the customer already has this reply."
    await slack.edit_message(AGENT, SUPPORT, reply["ts"], "Done, it works now (I think)")
    await said_to(slack, AGENT, "Edited here only: the customer already has the first version.")
    assert relayed(slack, asked) == ["Done, it works now"]


async def test_notes_and_the_closure_phrase_are_not_held(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    await start_bot(reply_undo_seconds=300)
    asked, posted = await open_case(slack, "My card is blocked since this morning")

    note = await slack.user_message(
        AGENT, SUPPORT, "note: card team says fixed", thread_ts=posted["ts"]
    )
    closing = await slack.user_message(
        AGENT, SUPPORT, "It is fixed. I'm closing this case.", thread_ts=posted["ts"]
    )
    await slack.wait_for(lambda: relayed(slack, asked) == ["It is fixed. I'm closing this case."])
    await card(slack, 1, status="closed")
    offers = [e for e in slack.ephemerals if e["text"].startswith("Sending in ")]
    assert not [
        e for e in offers if note["ts"] in str(e["blocks"]) or closing["ts"] in str(e["blocks"])
    ]


async def test_a_restart_inside_the_window_still_sends_the_reply_once(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    first: Runtime = await start_bot(reply_undo_seconds=WINDOW)
    asked, posted = await open_case(slack, "My card is blocked since this morning")
    reply = await slack.user_message(AGENT, SUPPORT, "On it, one moment", thread_ts=posted["ts"])
    await undo_offer(slack, reply)
    await first.stop()
    assert relayed(slack, asked) == []

    await start_bot(reply_undo_seconds=WINDOW)
    await slack.wait_for(lambda: relayed(slack, asked) == ["On it, one moment"], timeout=15)

"""Any message becomes a case: the *Open a case* shortcut or the 🎫 reaction on it. Its author
is the customer, the conversation goes on in the message's thread, and a second shortcut or
reaction opens nothing new but says which case it is."""

from __future__ import annotations

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from tests.e2e.conftest import (
    AGENT,
    CUSTOMER,
    OTHER_CUSTOMER,
    RANDOM,
    SUPPORT,
    card,
    cards,
    ephemerals_for,
    mirrored,
)


async def test_the_shortcut_opens_a_case_that_goes_on_in_the_messages_thread(
    slack: SlackEmulator, bot: Runtime
) -> None:
    said = await slack.user_message(CUSTOMER, RANDOM, "The invoice page shows an error 500")
    assert cards(slack) == [], "a message outside the intake channels is no case by itself"

    result = await slack.message_shortcut(AGENT, RANDOM, said["ts"], "open_case")
    [answer] = await slack.wait_for(lambda: result.responses)
    assert answer["text"] == (
        "Opened case #1 for <@UCUST>: replies in its card's thread reach them here."
    )
    opened = await card(slack, 1)
    assert "The invoice page shows an error 500" in str(opened["blocks"])
    link = f"https://slack.com/archives/{RANDOM}/p{said['ts'].replace('.', '')}"
    assert f"<{link}|the message it was opened from>" in str(opened["blocks"])

    await slack.user_message(CUSTOMER, RANDOM, "It happens every time", thread_ts=said["ts"])
    await slack.wait_for(lambda: "It happens every time" in mirrored(slack, opened["ts"]))
    await slack.user_message(AGENT, SUPPORT, "Fixed, try again", thread_ts=opened["ts"])
    await slack.wait_for(
        lambda: any(
            m["text"] == "Fixed, try again" and m.get("bot_id")
            for m in slack.replies(RANDOM, said["ts"])
        )
    )

    again = await slack.message_shortcut(AGENT, RANDOM, said["ts"], "open_case")
    [second] = await slack.wait_for(lambda: again.responses)
    assert second["text"] == "This message is already case #1."
    assert len(cards(slack)) == 1


async def test_the_ticket_reaction_opens_a_case_once_and_other_emoji_do_nothing(
    slack: SlackEmulator, bot: Runtime
) -> None:
    said = await slack.user_message(OTHER_CUSTOMER, RANDOM, "Where is my refund for order 42?")
    await slack.react(AGENT, RANDOM, said["ts"], "eyes")
    await slack.react(AGENT, RANDOM, said["ts"], "ticket")
    await card(slack, 1)
    await slack.wait_for(lambda: ephemerals_for(slack, AGENT))
    assert ephemerals_for(slack, AGENT) == [
        "Opened case #1 for <@UCUST2>: replies in its card's thread reach them here."
    ]

    await slack.react(CUSTOMER, RANDOM, said["ts"], "ticket")
    await slack.wait_for(lambda: ephemerals_for(slack, CUSTOMER))
    assert ephemerals_for(slack, CUSTOMER) == ["This message is already case #1."]
    record = await bot.parts.reads.record(1)
    opened_by = [e.actor for e in record.audit if e.action == "case.opened_from_message"]
    assert opened_by == ["agnes"] and len(cards(slack)) == 1


async def test_a_reaction_where_the_bot_is_not_opens_nothing(
    slack: SlackEmulator, bot: Runtime
) -> None:
    slack.add_channel("COUTSIDE", "elsewhere", is_member=False)
    said = await slack.user_message(CUSTOMER, "COUTSIDE", "help please")
    await slack.react(AGENT, "COUTSIDE", said["ts"], "ticket")
    assert [reason for reason, _ in slack.undelivered][-1] == "the bot is not a member of COUTSIDE"
    assert cards(slack) == []

"""`/case new`, `/case assign`, `/case close` and `/case stats`: agents work on cases from
Slack's command line, every action audited under their name."""

from __future__ import annotations

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from tests.e2e.conftest import (
    AGENT,
    CUSTOMER,
    GROUP_AGENT,
    INTAKE,
    LOG,
    STRANGER,
    SUPPORT,
    card,
)
from tests.e2e.slack_ui import answer


async def audited(bot: Runtime, number: int, action: str) -> list[tuple[str, dict[str, object]]]:
    record = await bot.parts.reads.record(number)
    return [(e.actor, dict(e.data)) for e in record.audit if e.action == action]


async def test_an_agent_opens_a_case_for_a_customer_who_gets_the_reply_in_their_dm(
    slack: SlackEmulator, bot: Runtime
) -> None:
    body = await answer(
        slack, AGENT, "/case", "new <@UCUST|carol> Invoice 2024-17 shows &lt;two&gt; charges"
    )
    assert body["text"] == ("Opened case #1 for <@UCUST>; replies in its card's thread reach them.")
    opened = await card(slack, 1)
    # Escaped for mrkdwn, as every customer text is: no live markup.
    assert "Invoice 2024-17 shows &lt;two&gt; charges" in str(opened["blocks"])
    assert await audited(bot, 1, "command.new") == [("agnes", {"customer": CUSTOMER})]

    await slack.user_message(AGENT, SUPPORT, "We are looking into it", thread_ts=opened["ts"])
    dm = slack.open_dm(CUSTOMER)
    await slack.wait_for(
        lambda: any("We are looking into it" in m.get("text", "") for m in slack.messages(dm))
    )

    again = await answer(slack, AGENT, "/case", "new <@UCUST|carol> and the VAT is wrong")
    assert again["text"] == "<@UCUST> already has case #1 open: your text was added to it."


async def test_case_new_without_words_says_how_and_strangers_are_refused(
    slack: SlackEmulator, bot: Runtime
) -> None:
    assert "/case new @customer" in (await answer(slack, AGENT, "/case", "new"))["text"]
    assert "/case new @customer" in (await answer(slack, AGENT, "/case", "new <@UCUST|c>"))["text"]
    refused = await answer(slack, STRANGER, "/case", "new please open one")
    assert "Only support agents" in refused["text"]
    assert not [m for m in slack.messages(SUPPORT) if m["text"].startswith("Case #")]


async def test_assign_gives_a_case_to_an_agent_and_close_records_the_reason(
    slack: SlackEmulator, bot: Runtime
) -> None:
    await slack.user_message(CUSTOMER, INTAKE, "My card was charged twice")
    await card(slack, 1)

    given = await answer(slack, AGENT, "/case", "assign #1 <@UGROUP|gus>")
    assert given["text"] == "Case #1 is now <@UGROUP>'s."
    await card(slack, 1, status="assigned")
    assert await audited(bot, 1, "case.assigned") == [("agnes", {"assignee": GROUP_AGENT})]

    not_agent = await answer(slack, AGENT, "/case", "assign 1 <@USTRANGE|sam>")
    assert not_agent["text"] == "<@USTRANGE> is not a support agent: cases go to agents only."
    assert (await answer(slack, AGENT, "/case", "assign 999 <@UGROUP|gus>"))["text"] == (
        "There is no case #999."
    )
    assert "/case assign 42 @agent" in (await answer(slack, AGENT, "/case", "assign me"))["text"]

    closed = await answer(slack, AGENT, "/case", "close 1 duplicate of #7")
    assert closed["text"] == "Case #1 is closed (duplicate of #7)."
    await card(slack, 1, status="closed")
    log_line = (await slack.wait_for(lambda: slack.messages(LOG)))[0]["text"]
    assert log_line.startswith("Case #1 closed at ") and log_line.endswith("by <@UAGENT>")
    assert await audited(bot, 1, "case.closed") == [("agnes", {"reason": "duplicate of #7"})]
    twice = await answer(slack, AGENT, "/case", "close 1")
    assert "cannot be closed" in twice["text"]
    assert "/case close 42 [reason]" in (await answer(slack, AGENT, "/case", "close"))["text"]


async def test_stats_counts_the_desk(slack: SlackEmulator, bot: Runtime) -> None:
    await slack.user_message(CUSTOMER, INTAKE, "Refund for order 77 missing")
    await card(slack, 1)
    body = await answer(slack, AGENT, "/case", "stats")
    assert body["text"].startswith("*Cases*: 1 (open 1)")
    assert "*Escalated and still active*: 0" in body["text"]
    assert "*Median first response* (30 days): no case answered yet" in body["text"]


async def test_help_lists_every_verb(slack: SlackEmulator, bot: Runtime) -> None:
    body = await answer(slack, AGENT, "/case", "help")
    for verb in ("/case new", "/case assign", "/case close", "/case stats", "/case find"):
        assert verb in body["text"], verb

"""Agents answer in the card thread, keep notes, close by phrase, and use the card's buttons."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from storage.models import AuditEvent, Case, CaseStatus
from tests.e2e.conftest import (
    AGENT,
    ALERTS,
    CUSTOMER,
    GROUP_AGENT,
    INTAKE,
    LOG,
    STRANGER,
    SUPPORT,
    buttons,
    card,
    cards,
    ephemerals_for,
    open_case,
)

CLOSURE_LINE = r"^Case #(\d+) closed at (\S+) by <@(\w+)>$"


def bot_replies(slack: SlackEmulator, channel: str, ts: str) -> list[str]:
    return [m["text"] for m in slack.replies(channel, ts) if m.get("bot_id")]


async def test_agent_reply_in_the_card_thread_reaches_the_customer(
    slack: SlackEmulator, bot: Runtime
) -> None:
    message, posted = await open_case(slack)

    await slack.user_message(
        AGENT, SUPPORT, "We unblocked it, try again please", thread_ts=posted["ts"]
    )

    [relayed] = await slack.wait_for(
        lambda: [
            m
            for m in slack.replies(INTAKE, message["ts"])
            if m.get("bot_id") and "unblocked" in m["text"]
        ]
    )
    # Under the agent's name and avatar (chat:write.customize), the words as written.
    assert relayed["text"] == "We unblocked it, try again please"
    assert relayed["username"] == "agnes (Support)"
    assert relayed["icons"] == {
        "image_48": f"https://avatars.example.slack-edge.com/{AGENT}_72.png"
    }
    case = await bot.cases.reads.get(1)
    assert case.consecutive_customer_messages == 0 and case.last_agent_message_at is not None


async def test_a_reply_under_a_card_not_yet_recorded_still_reaches_the_customer(
    slack: SlackEmulator, bot: Runtime
) -> None:
    """The card is in Slack before its ts is in our database (posted, then written down; or a
    crash in between). A reply in that moment is read by the card's own metadata, never
    dropped in silence; a stranger's is refused as under any card."""
    message, posted = await open_case(slack)
    async with bot.sessions() as session, session.begin():
        case = await session.get(Case, 1)
        assert case is not None
        case.card_channel = case.card_ts = None
    await slack.user_message(STRANGER, SUPPORT, "Refunded!", thread_ts=posted["ts"])
    await slack.wait_for(lambda: ephemerals_for(slack, STRANGER))
    await slack.user_message(AGENT, SUPPORT, "Try the card again now", thread_ts=posted["ts"])
    await slack.wait_for(
        lambda: [m for m in slack.replies(INTAKE, message["ts"]) if "again now" in m["text"]]
    )


async def test_note_stays_internal(slack: SlackEmulator, bot: Runtime) -> None:
    message, posted = await open_case(slack)

    await slack.user_message(AGENT, SUPPORT, "note: fraud team is checking", thread_ts=posted["ts"])
    await slack.user_message(AGENT, SUPPORT, "Hi Carol, looking into it", thread_ts=posted["ts"])

    await slack.wait_for(
        lambda: any("looking into it" in t for t in bot_replies(slack, INTAKE, message["ts"]))
    )
    assert not any("fraud team" in t for t in bot_replies(slack, INTAKE, message["ts"]))
    notes = [m for m in await bot.cases.reads.messages(1) if m.direction == "internal"]
    assert [n.body for n in notes] == ["fraud team is checking"]


async def test_replies_can_go_out_under_the_team_name_only(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    await start_bot(support_team_name="Acme Support", replies_show_agent=False)
    message, posted = await open_case(slack)
    await slack.user_message(AGENT, SUPPORT, "Try again now", thread_ts=posted["ts"])

    [relayed] = await slack.wait_for(
        lambda: [m for m in slack.replies(INTAKE, message["ts"]) if "Try again" in m["text"]]
    )
    assert (relayed["text"], relayed["username"]) == ("Try again now", "Acme Support")
    assert "icons" not in relayed, "no agent's face either"


async def test_closure_phrase_logs_closes_and_the_next_message_opens_a_new_case(
    slack: SlackEmulator, bot: Runtime
) -> None:
    message, posted = await open_case(slack)

    await slack.user_message(
        AGENT, SUPPORT, "All sorted. I\u2019m closing this case.", thread_ts=posted["ts"]
    )

    log_line = (await slack.wait_for(lambda: slack.messages(LOG)))[0]["text"]
    match = re.match(CLOSURE_LINE, log_line)
    assert match, log_line
    assert match.group(1) == "1" and match.group(3) == AGENT
    closed_at = datetime.fromisoformat(match.group(2))
    assert closed_at.utcoffset() is not None and closed_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    closed_card = await card(slack, 1, status="closed")
    assert buttons(closed_card) == {}
    await slack.wait_for(
        lambda: any("All sorted" in t for t in bot_replies(slack, INTAKE, message["ts"]))
    )

    await slack.user_message(CUSTOMER, INTAKE, "Actually, one more question")
    await card(slack, 2, status="open")
    assert len(cards(slack)) == 2
    assert (await bot.cases.reads.get(1)).status == CaseStatus.CLOSED


async def test_non_agent_reply_in_a_card_thread_is_refused(
    slack: SlackEmulator, bot: Runtime
) -> None:
    message, posted = await open_case(slack)

    await slack.user_message(STRANGER, SUPPORT, "I'm closing this case.", thread_ts=posted["ts"])

    refusal = await slack.wait_for(lambda: ephemerals_for(slack, STRANGER))
    assert "Only support agents" in refusal[0]
    assert (await bot.cases.reads.get(1)).status == CaseStatus.OPEN
    assert bot_replies(slack, INTAKE, message["ts"]) == [
        bot_replies(slack, INTAKE, message["ts"])[0]
    ]


async def test_buttons_as_an_agent(slack: SlackEmulator, bot: Runtime) -> None:
    message, posted = await open_case(slack)

    await slack.click(AGENT, SUPPORT, posted["ts"], "case_claim", "1")
    await card(slack, 1, status="assigned", where=lambda m: f"<@{AGENT}>" in str(m["blocks"]))

    await slack.click(AGENT, SUPPORT, posted["ts"], "case_escalate", "1")
    alert = (await slack.wait_for(lambda: slack.messages(ALERTS)))[0]["text"]
    assert "Case #1" in alert and f"escalated by <@{AGENT}>" in alert
    await card(slack, 1, where=lambda m: "case_escalate" not in buttons(m))

    await slack.click(AGENT, SUPPORT, posted["ts"], "case_resolve", "1")
    resolved = await card(slack, 1, status="resolved")
    assert set(buttons(resolved)) == {"case_reopen", "case_close"}, "only what applies is offered"
    await slack.wait_for(
        lambda: any("resolved" in t for t in bot_replies(slack, INTAKE, message["ts"]))
    )

    await slack.click(AGENT, SUPPORT, posted["ts"], "case_reopen", "1")
    await card(slack, 1, status="assigned")

    await slack.click(GROUP_AGENT, SUPPORT, posted["ts"], "case_close", "1")  # agent by user group
    await card(slack, 1, status="closed")
    log_line = (await slack.wait_for(lambda: slack.messages(LOG)))[0]["text"]
    assert log_line.startswith("Case #1 closed at ") and log_line.endswith(f"by <@{GROUP_AGENT}>")
    assert len(cards(slack)) == 1


async def test_buttons_as_a_non_agent_change_nothing(slack: SlackEmulator, bot: Runtime) -> None:
    _, posted = await open_case(slack)
    before = await bot.cases.reads.get(1)

    for action in ("case_claim", "case_resolve", "case_escalate", "case_close"):
        await slack.click(STRANGER, SUPPORT, posted["ts"], action, "1")

    refusals = await slack.wait_for(
        lambda: len(ephemerals_for(slack, STRANGER)) == 4 and ephemerals_for(slack, STRANGER)
    )
    assert all("Only support agents" in text for text in refusals)
    after = await bot.cases.reads.get(1)
    assert (after.status, after.assignee, after.escalation_reasons) == (
        before.status,
        before.assignee,
        before.escalation_reasons,
    )
    assert slack.messages(ALERTS) == [] and slack.messages(LOG) == []
    async with bot.sessions() as session:
        refused = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "refused"))
        ).all()
    assert sorted(r.data["action"] for r in refused) == ["claim", "close", "escalate", "resolve"]
    assert {r.actor for r in refused} == {"sam"}


async def test_a_click_on_an_invalid_transition_explains_itself(
    slack: SlackEmulator, bot: Runtime
) -> None:
    _, posted = await open_case(slack)
    await slack.click(AGENT, SUPPORT, posted["ts"], "case_close", "1")
    await card(slack, 1, status="closed")

    await slack.click(AGENT, SUPPORT, posted["ts"], "case_resolve", "1")  # a stale card

    answer = await slack.wait_for(lambda: ephemerals_for(slack, AGENT))
    assert answer == ["Case #1 is closed: it cannot be resolved."]

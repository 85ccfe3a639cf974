"""CSAT: a resolved case's customer is asked once to rate it 1-5 and may add one comment; the
rating reaches the card's thread and App Home, a low one the alerts channel."""

from __future__ import annotations

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from tests.e2e.conftest import (
    AGENT,
    ALERTS,
    CUSTOMER,
    INTAKE,
    JSON,
    STRANGER,
    SUPPORT,
    buttons,
    card,
    ephemerals_for,
)


async def resolved_case(slack: SlackEmulator) -> tuple[JSON, JSON, JSON]:
    """A case opened in the intake channel and resolved: (question, card, the notice)."""
    asked = await slack.user_message(CUSTOMER, INTAKE, "The export button does nothing")
    posted = await card(slack, 1)
    await slack.click(AGENT, SUPPORT, posted["ts"], "case_resolve", "1")
    notice = await slack.wait_for(
        lambda: next(
            (m for m in slack.replies(INTAKE, asked["ts"]) if "csat_1" in str(m.get("blocks"))),
            None,
        )
    )
    return asked, posted, notice


def in_card_thread(slack: SlackEmulator, posted: JSON) -> str:
    return "\n".join(m["text"] for m in slack.replies(SUPPORT, posted["ts"]))


def rating_buttons(message: JSON) -> dict[str, str]:
    return {k: v for k, v in buttons(message).items() if k.startswith("csat_")}


async def test_a_slack_customer_rates_once_and_comments_once(
    slack: SlackEmulator, bot: Runtime
) -> None:
    asked, posted, notice = await resolved_case(slack)
    assert notice["text"].startswith("Case #1 has been resolved.")
    assert rating_buttons(notice) == {f"csat_{n}": "1" for n in range(1, 6)}

    forged = await slack.click(STRANGER, INTAKE, notice["ts"], "csat_5")
    await slack.wait_for(lambda: forged.responses)
    assert "This rating is not yours to give." in ephemerals_for(slack, STRANGER)

    await slack.click(CUSTOMER, INTAKE, notice["ts"], "csat_4")
    await slack.wait_for(lambda: "★★★★☆ 4/5" in in_card_thread(slack, posted))
    thanked = slack.get_message(INTAKE, notice["ts"])
    assert thanked is not None and "You rated case #1 ★★★★☆ 4/5" in str(thanked["blocks"])
    assert rating_buttons(thanked) == {}, "the buttons are gone: one rating"

    await slack.click(CUSTOMER, INTAKE, notice["ts"], "csat_comment", "Quick, <!channel> thanks")
    await slack.wait_for(lambda: "Comment on the rating" in in_card_thread(slack, posted))
    assert "Quick, &lt;!channel&gt; thanks" in in_card_thread(slack, posted), "never live"
    assert "csat_comment" not in str(slack.get_message(INTAKE, notice["ts"]))
    assert slack.messages(ALERTS) == [], "4/5 is no alert"

    record = await bot.parts.reads.record(1)
    rated = [(e.action, e.data) for e in record.audit if e.action.startswith("case.rat")]
    assert rated == [
        ("case.rated", {"score": 4}),
        ("case.rating_commented", {"comment": "Quick, <!channel> thanks"}),
    ]

    # Reopened and resolved again: not asked a second time.
    await slack.click(AGENT, SUPPORT, posted["ts"], "case_reopen", "1")
    await card(slack, 1, status="open")
    await slack.click(AGENT, SUPPORT, posted["ts"], "case_resolve", "1")
    again = await slack.wait_for(
        lambda: [
            m
            for m in slack.replies(INTAKE, asked["ts"])
            if "has been resolved" in m["text"] and m["ts"] != notice["ts"]
        ]
    )
    assert rating_buttons(again[0]) == {}


async def test_a_low_rating_and_its_comment_alert_the_leads(
    slack: SlackEmulator, bot: Runtime
) -> None:
    _asked, posted, notice = await resolved_case(slack)

    await slack.click(CUSTOMER, INTAKE, notice["ts"], "csat_1")
    [alert] = await slack.wait_for(lambda: slack.messages(ALERTS))
    assert alert["text"].startswith(":thumbsdown: *Case #1 rated 1/5* by the customer")
    assert "open card" in alert["text"]
    await slack.click(CUSTOMER, INTAKE, notice["ts"], "csat_comment", "Nobody read my question")
    await slack.wait_for(lambda: len(slack.messages(ALERTS)) == 2)
    assert "> Nobody read my question" in slack.messages(ALERTS)[1]["text"]
    assert "★☆☆☆☆ 1/5" in in_card_thread(slack, posted)

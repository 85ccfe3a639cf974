"""A ticket storm seen from Slack: one alert, one master card, collapsed children, and one
click that resolves everybody's case on their own channel."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from storage.models import Case
from tests.builders import UNRELATED
from tests.e2e.conftest import AGENT, ALERTS, INTAKE, SUPPORT, card, cards, outbox_settled

REPORTERS = 14


def bot_replies(slack: SlackEmulator, ts: str) -> list[str]:
    return [m["text"] for m in slack.replies(INTAKE, ts) if m.get("bot_id")]


async def test_a_storm_becomes_one_incident_resolved_with_one_click(
    slack: SlackEmulator, start_bot: Any
) -> None:
    bot: Runtime = await start_bot(storm_threshold=10)
    originals: dict[str, str] = {}
    for n in range(REPORTERS):
        user = f"US{n}"
        slack.add_user(user, f"reporter{n}")
        text = f"{['Hi, ', 'Hello, ', ''][n % 3]}the mobile app is down and I cannot log in ({n})"
        posted = await slack.user_message(user, INTAKE, text)
        originals[user] = posted["ts"]
        await slack.wait_for(lambda ts=posted["ts"]: bot_replies(slack, ts))  # acknowledged
    for n, text in enumerate(UNRELATED[:3]):
        slack.add_user(f"UU{n}", f"other{n}")
        posted = await slack.user_message(f"UU{n}", INTAKE, text)
        await slack.wait_for(lambda ts=posted["ts"]: bot_replies(slack, ts))
    await outbox_settled(bot)

    async with bot.sessions() as session:
        everything = list((await session.exec(select(Case).order_by(col(Case.id)))).all())
    masters = [c for c in everything if c.is_master]
    assert len(masters) == 1
    master_number = masters[0].number
    children = [c for c in everything if c.master_id == master_number]
    assert len(children) == REPORTERS
    assert len([c for c in everything if not c.is_master and c.master_id is None]) == 3

    alerts = slack.messages(ALERTS)
    assert len(alerts) == 1 and "ticket storm" in alerts[0]["text"]
    master = await card(
        slack, master_number, where=lambda m: f"{REPORTERS} affected" in str(m["blocks"])
    )
    assert "Incident: " in str(master["blocks"]) and "<@US13>" in str(master["blocks"])
    carded = {c.number for c in children if c.card_ts}
    # Only reports that arrived before the storm was recognised can have had a card (the
    # one that tipped it over never did; a card still in the outbox then is never posted).
    assert 1 <= len(carded) <= master_number - 2
    for number in carded:  # their cards collapsed into a pointer to the incident
        await card(slack, number, where=lambda m: "part of incident" in m["text"])
    assert len(cards(slack)) == len(carded) + 1 + 3  # later reports never got a card

    await slack.click(AGENT, SUPPORT, master["ts"], "case_resolve", str(master_number))
    await card(slack, master_number, status="resolved")
    await outbox_settled(bot)
    for user, ts in originals.items():
        assert any("resolved" in text for text in bot_replies(slack, ts)), user

"""Team channels from the catalog: a category or request type names `channel:` (and
`alerts_channel:`); its cards and alerts go there, the rest to the desk-wide channels, and
an agent's correction of the request type moves the card."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from bot.settings import ConfigError
from services.triage.catalog import DEFAULT_CATALOG
from tests.e2e.conftest import (
    AGENT,
    ALERTS,
    CUSTOMER,
    INTAKE,
    OTHER_CUSTOMER,
    SUPPORT,
    card,
    ephemerals_for,
)

PAYMENTS, PAYMENTS_ALERTS, FRAUD = "CPAYTEAM", "CPAYALRT", "CFRAUD01"
SHIPPED = Path(__file__).parents[2] / "services" / "triage" / DEFAULT_CATALOG


def team_catalog(tmp_path: Path, **fraud: str) -> str:
    """The shipped catalog with the payments category in its team's channels (by name) and
    fraud reports, one of its request types, in a channel of their own (by id)."""
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    payments = next(c for c in data["categories"] if c["name"] == "payments")
    payments.update(channel="#payments-team", alerts_channel="payments-alerts")
    fraud_report = next(rt for rt in payments["request_types"] if rt["id"] == "fraud_report")
    fraud_report.update(fraud or {"channel": FRAUD})
    path = tmp_path / "catalog.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def team_cards(slack: SlackEmulator, channel: str, number: int) -> list[dict[str, Any]]:
    return [m for m in slack.messages(channel) if m.get("text", "").startswith(f"Case #{number} (")]


@pytest.fixture
def teams(slack: SlackEmulator) -> None:
    slack.add_channel(PAYMENTS, "payments-team")
    slack.add_channel(PAYMENTS_ALERTS, "payments-alerts")
    slack.add_channel(FRAUD, "fraud")


@pytest.mark.usefixtures("teams")
async def test_cards_and_alerts_go_to_the_team_and_a_correction_moves_the_card(
    slack: SlackEmulator, start_bot: Any, tmp_path: Path
) -> None:
    bot: Runtime = await start_bot(catalog_path=team_catalog(tmp_path))
    asked = await slack.user_message(CUSTOMER, INTAKE, "I was charged twice for the same order")
    posted = (await slack.wait_for(lambda: team_cards(slack, PAYMENTS, 1)))[0]
    await slack.wait_for(lambda: slack.replies(PAYMENTS, posted["ts"]))  # the mirror
    assert (await bot.parts.reads.record(1)).case.request_type == "duplicate_payment"

    # A case of a type without a team still goes to the support channel.
    await slack.user_message(OTHER_CUSTOMER, INTAKE, "Your whole API is down, every request fails")
    await card(slack, 2)
    assert not team_cards(slack, SUPPORT, 1) and not team_cards(slack, PAYMENTS, 2)

    # The team answers under its card; the customer gets it in their own thread.
    await slack.user_message(
        AGENT, PAYMENTS, "Sorry <@UCUST>, refunding one now", thread_ts=posted["ts"]
    )
    await slack.wait_for(
        lambda: [r for r in slack.replies(INTAKE, asked["ts"]) if "refunding" in r["text"]]
    )
    # An escalation alerts the team's alerts channel, not the desk's.
    await slack.click(AGENT, PAYMENTS, posted["ts"], "case_escalate", "1")
    alert = (await slack.wait_for(lambda: slack.messages(PAYMENTS_ALERTS)))[0]
    assert alert["text"].startswith(":rotating_light: *Case #1 escalated*")
    assert not [m for m in slack.messages(ALERTS) if "Case #1" in m.get("text", "")]

    # Correcting the type to one of another team moves the card there.
    await slack.click(AGENT, PAYMENTS, posted["ts"], "case_set_type", "1:fraud_report")
    moved = (await slack.wait_for(lambda: team_cards(slack, FRAUD, 1)))[0]
    history = (await slack.wait_for(lambda: slack.replies(FRAUD, moved["ts"])))[0]["text"]
    assert history.startswith(
        f":card_index_dividers: The thread of this case's card in <#{PAYMENTS}>"
    )
    assert "I was charged twice for the same order" in history  # the customer's mirror
    assert "*agnes*\nSorry @carol, refunding one now" in history  # no ping replayed
    assert "<@" not in history
    pointer = await slack.wait_for(
        lambda: [
            m
            for m in slack.messages(PAYMENTS)
            if m["ts"] == posted["ts"] and "moved to" in m["text"]
        ]
    )
    assert re.fullmatch(
        rf":arrow_right: Case #1 moved to <#{FRAUD}> \(request type fraud_report\):"
        r" <https://\S+\|open its card>",
        pointer[0]["text"],
    )
    assert "case_claim" not in str(pointer[0]["blocks"])  # no buttons left on the old card

    # From now on the thread under the new card is the case's: mirrors and replies.
    await slack.user_message(CUSTOMER, INTAKE, "It was 42 EUR", thread_ts=asked["ts"])
    await slack.wait_for(
        lambda: [r for r in slack.replies(FRAUD, moved["ts"]) if "42 EUR" in r["text"]]
    )
    record = await bot.parts.reads.record(1)
    assert (record.case.card_channel, record.case.card_ts) == (FRAUD, moved["ts"])
    assert any(a.action == "card.moved" for a in record.audit)
    await slack.user_message(AGENT, FRAUD, "Card blocked", thread_ts=moved["ts"])
    await slack.wait_for(
        lambda: [r for r in slack.replies(INTAKE, asked["ts"]) if "Card blocked" in r["text"]]
    )
    assert not [r for r in slack.replies(PAYMENTS, posted["ts"]) if "42 EUR" in r["text"]]
    # A reply under the old card is not lost in silence: its author is told where to go.
    await slack.user_message(AGENT, PAYMENTS, "Still here?", thread_ts=posted["ts"])
    told = await slack.wait_for(lambda: ephemerals_for(slack, AGENT))
    assert told == [
        f"This card moved to case #1's card in <#{FRAUD}>."
        " Your message was not sent to the customer."
    ]
    assert not [r for r in slack.replies(INTAKE, asked["ts"]) if "Still here" in r["text"]]

    # And back to a type without a team: the desk's support channel, the pointer updated.
    await slack.click(AGENT, FRAUD, moved["ts"], "case_set_type", "1:general_inquiry")
    back = await card(slack, 1)
    copied = (await slack.wait_for(lambda: slack.replies(SUPPORT, back["ts"])))[0]["text"]
    assert "Card blocked" in copied and "42 EUR" in copied
    await slack.wait_for(lambda: not team_cards(slack, FRAUD, 1))  # a pointer there too


@pytest.mark.usefixtures("teams")
async def test_a_team_channel_the_bot_cannot_see_stops_start_up(
    start_bot: Any, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as refused:
        await start_bot(catalog_path=team_catalog(tmp_path, channel="#no-such-team"))
    assert str(refused.value) == (
        "CATALOG_PATH: channel '#no-such-team' not found: use its id, or invite the bot to it"
        " (the catalog's request type 'fraud_report')"
    )


@pytest.mark.usefixtures("teams")
async def test_a_move_cut_short_ends_with_one_card_and_one_copy(
    slack: SlackEmulator, start_bot: Any, tmp_path: Path
) -> None:
    await start_bot(catalog_path=team_catalog(tmp_path))
    await slack.user_message(CUSTOMER, INTAKE, "I was charged twice for the same order")
    posted = (await slack.wait_for(lambda: team_cards(slack, PAYMENTS, 1)))[0]
    await slack.wait_for(lambda: slack.replies(PAYMENTS, posted["ts"]))

    # The new card is posted and the thread copied, then Slack fails the pointer: the
    # delivery is retried and finds what it already did.
    slack.fail_next("chat.update", error="internal_error")
    await slack.click(AGENT, PAYMENTS, posted["ts"], "case_set_type", "1:fraud_report")
    await slack.wait_for(
        lambda: [m for m in slack.messages(PAYMENTS) if "moved to" in m.get("text", "")],
        timeout=30,
    )
    failed = [c for c in slack.calls if c.method == "chat.update" and c.error == "internal_error"]
    assert [(c.args["channel"], c.args["ts"]) for c in failed] == [(PAYMENTS, posted["ts"])]
    moved = team_cards(slack, FRAUD, 1)
    assert len(moved) == 1
    assert len(slack.replies(FRAUD, moved[0]["ts"])) == 1

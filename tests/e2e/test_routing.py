"""Routing from Slack: `/case agent …` sets who gets what; new cases arrive assigned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from tests.e2e.conftest import AGENT, CUSTOMER, INTAKE, OTHER_CUSTOMER, STRANGER, card
from tests.e2e.slack_ui import answer


async def test_agents_set_up_routing_and_cases_arrive_assigned(
    slack: SlackEmulator, bot: Runtime
) -> None:
    body = await answer(
        slack, AGENT, "/case", f"agent add <@{AGENT}|agnes> skills payments capacity 1"
    )
    assert (
        body["text"] == f"<@{AGENT}> now gets new cases needing payments (at most 1 open at once)."
    )
    listing = await answer(slack, AGENT, "/case", "agent list")
    assert listing["text"] == f"• <@{AGENT}>: payments · 0/1 open case(s)"

    await slack.user_message(CUSTOMER, INTAKE, "I was charged twice for my order")
    assigned = await card(slack, 1, status="assigned")
    assert f"<@{AGENT}>" in str(assigned["blocks"])
    await slack.user_message(OTHER_CUSTOMER, INTAKE, "I was charged twice for my hotel too")
    await card(slack, 2, status="open")  # the only payments agent is at capacity

    refused = await answer(slack, AGENT, "/case", f"agent add <@{AGENT}> skills juggling")
    assert "unknown skill(s) juggling; the catalog's:" in refused["text"]
    garbage = await answer(slack, AGENT, "/case", "agent add nobody skills payments")
    assert "I need a person" in garbage["text"]
    stranger = await answer(slack, STRANGER, "/case", "agent list")
    assert "Only support agents" in stranger["text"]
    removed = await answer(slack, AGENT, "/case", f"agent remove {AGENT}")
    assert "No more new cases go to" in removed["text"]


async def test_agents_come_from_agents_path_at_start(
    slack: SlackEmulator, start_bot: Any, tmp_path: Path
) -> None:
    path = tmp_path / "agents.yml"
    path.write_text(f"agents:\n  - id: {AGENT}\n    name: agnes\n    skills: [cards]\n")
    await start_bot(agents_path=path)
    await slack.user_message(CUSTOMER, INTAKE, "somebody stole my card on the bus")
    assigned = await card(slack, 1, status="assigned")
    assert f"<@{AGENT}>" in str(assigned["blocks"])

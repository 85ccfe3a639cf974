"""App Home over Socket Mode: an agent's desk is drawn when they open it and redrawn when one
of their cases changes; anyone else is told how to reach support."""

from __future__ import annotations

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from tests.e2e.conftest import AGENT, CUSTOMER, INTAKE, STRANGER, SUPPORT, card
from tests.e2e.slack_ui import home_text, opened_home


async def test_a_non_agent_learns_how_to_reach_support(slack: SlackEmulator, bot: Runtime) -> None:
    text = await opened_home(slack, STRANGER, "Need help?")
    assert f"<#{INTAKE}>" in text and "direct message" in text
    assert "My open cases" not in text  # the agents' desk is not shown to customers


async def test_an_agents_home_follows_their_cases(slack: SlackEmulator, bot: Runtime) -> None:
    text = await opened_home(slack, AGENT, "My open cases")
    assert "Nothing assigned to you" in text and "*Opened today*\n0" in text

    await slack.user_message(CUSTOMER, INTAKE, "The export button does nothing")
    posted = await card(slack, 1)
    await slack.click(AGENT, SUPPORT, posted["ts"], "case_claim", "1")
    # Not reopened: the claim itself redraws the tab.
    text = await slack.wait_for(
        lambda: "*#1*" in (t := home_text(slack.views[AGENT])).split("Top of the queue")[0] and t
    )
    assert "*Opened today*\n1" in text

    await slack.user_message(AGENT, SUPPORT, "Looking into it now", thread_ts=posted["ts"])
    await slack.click(AGENT, SUPPORT, posted["ts"], "case_resolve", "1")
    text = await slack.wait_for(
        lambda: "*Resolved today*\n1" in (t := home_text(slack.views[AGENT])) and t
    )
    assert "Nothing assigned to you" in text
    assert "*Median first response*\n—" not in text  # the reply counted as a first answer

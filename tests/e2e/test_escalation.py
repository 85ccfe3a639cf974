"""The scheduled sweep escalates customers who waited too long (fractional hours allowed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.sandbox.emulator import SlackEmulator
from tests.e2e.conftest import ALERTS, CUSTOMER, INTAKE, OTHER_CUSTOMER, SUPPORT, card


async def test_inactivity_alerts_once_after_fractional_hours(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    bot = await start_bot(escalation_inactivity_hours=0.001, escalation_check_interval=0.2)
    await slack.user_message(CUSTOMER, INTAKE, "Hello, my transfer is missing")
    await card(slack, 1)  # two customers may race for a number; keep them in this order
    question = await slack.user_message(OTHER_CUSTOMER, INTAKE, "Question about fees")
    answered = await card(slack, 2)
    await slack.wait_for(lambda: slack.replies(SUPPORT, answered["ts"]))  # card recorded
    await slack.user_message("UAGENT", SUPPORT, "Here are our fees", thread_ts=answered["ts"])
    await slack.wait_for(
        lambda: [
            r for r in slack.replies(INTAKE, question["ts"]) if "Here are our fees" in r["text"]
        ]
    )

    alerts = await slack.wait_for(lambda: slack.messages(ALERTS), timeout=10)
    assert "Case #1" in alerts[0]["text"] and "inactivity" in alerts[0]["text"]
    await card(slack, 1, where=lambda m: "waiting too long" in str(m["blocks"]))

    for _ in range(3):  # several more sweeps: still one alert, and none for the answered case
        await bot.sweep.run()
    await bot.dispatcher.drain_once()
    assert len(slack.messages(ALERTS)) == 1

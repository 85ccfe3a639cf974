"""Through the running bot: a resolved case closes by itself (the log line says "by casebot
(auto)"), and a customer who left an agent's question unanswered is nudged in their thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.sandbox.emulator import SlackEmulator
from tests.e2e.conftest import AGENT, CUSTOMER, INTAKE, LOG, SUPPORT, buttons, card, mirrored

# Seconds, in the settings' units: the sweep runs every 0.2 s and the waits are a second.
QUICK = {
    "triage_local_model": False,
    "escalation_check_interval": 0.2,
    "auto_close_days": 1 / 86_400,
    "customer_nudge_hours": 1 / 3_600,
}


async def test_a_resolved_case_closes_by_itself_and_an_unanswered_question_is_nudged(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    await start_bot(**QUICK)
    asked = await slack.user_message(CUSTOMER, INTAKE, "My card does not work")
    opened = await card(slack, 1)
    await slack.user_message(
        AGENT, SUPPORT, "Which card is it, debit or credit?", thread_ts=opened["ts"]
    )

    def thread() -> list[str]:
        return [m["text"] for m in slack.replies(INTAKE, asked["ts"]) if m.get("bot_id")]

    nudge = await slack.wait_for(
        lambda: next((t for t in thread() if "we asked you something" in t), None)
    )
    assert nudge.startswith("About case #1:")
    await slack.user_message(CUSTOMER, INTAKE, "debit", thread_ts=asked["ts"])
    # Stored before the resolve: a later customer message would reopen the resolved case.
    await slack.wait_for(lambda: "debit" in mirrored(slack, opened["ts"]))

    current = await card(slack, 1)
    await slack.click(
        AGENT, SUPPORT, opened["ts"], "case_resolve", value=buttons(current)["case_resolve"]
    )
    log_line = (await slack.wait_for(lambda: slack.messages(LOG), timeout=15))[0]["text"]
    assert log_line.startswith("Case #1 closed at ") and log_line.endswith(" by casebot (auto)")
    await card(slack, 1, status="closed")
    assert sum("we asked you something" in t for t in thread()) == 1, "one nudge per question"

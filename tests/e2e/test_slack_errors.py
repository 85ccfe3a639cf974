"""The one error path of Slack listeners: a forged payload, a refusal and a bug each get one
answer to the user who acted, the envelope is acked, and the bot keeps serving."""

from __future__ import annotations

import pytest

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from storage.models import CaseStatus
from tests.e2e.conftest import AGENT, CUSTOMER, INTAKE, SUPPORT, card, ephemerals_for


async def opened(slack: SlackEmulator) -> dict[str, object]:
    await slack.user_message(CUSTOMER, INTAKE, "My card was charged twice")
    return await card(slack, 1)


async def test_a_forged_button_value_is_refused_in_words(
    slack: SlackEmulator, bot: Runtime
) -> None:
    posted = await opened(slack)
    result = await slack.click(AGENT, SUPPORT, str(posted["ts"]), "case_claim", "not-a-number")
    assert result.ack_payload in (None, {}), "acked"
    said = await slack.wait_for(lambda: ephemerals_for(slack, AGENT))
    assert said == ["That button is broken: it names no case."]
    assert (await bot.cases.reads.get(1)).status == CaseStatus.OPEN


async def test_a_bug_in_a_listener_is_answered_with_an_error_id_and_the_bot_goes_on(
    slack: SlackEmulator, bot: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted = await opened(slack)
    claim = bot.cases.agents.claim

    async def broken(**_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(bot.cases.agents, "claim", broken)
    result = await slack.click(AGENT, SUPPORT, str(posted["ts"]), "case_claim", "1")
    assert result.ack_payload in (None, {}), "acked although the listener failed"
    said = await slack.wait_for(lambda: ephemerals_for(slack, AGENT))
    assert said[0].startswith("Something went wrong on our side (error id `")

    monkeypatch.setattr(bot.cases.agents, "claim", claim)
    await slack.click(AGENT, SUPPORT, str(posted["ts"]), "case_claim", "1")
    await card(slack, 1, status="assigned")

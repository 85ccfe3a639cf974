"""What a non-agent is refused is audited, whatever the door (slash commands as buttons and
thread replies already were), and said as a sentence a person would write."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from services.errors import REFUSALS, NotAllowed
from services.transitions import Action
from storage.models import AuditEvent
from tests.e2e.conftest import CUSTOMER, INTAKE, STRANGER, SUPPORT, card, ephemerals_for

COMMANDS = [
    ("/case", "4", 4),
    ("/case", "find refund", None),
    ("/case", "agent add <@UAGENT2> skills billing", None),
    ("/case", "report", None),
    ("/case", "quarantine", None),
    ("/queue", "", None),
    ("/queue", "next", None),
]


async def refusals(bot: Runtime) -> list[AuditEvent]:
    async with bot.sessions() as session:
        stmt = select(AuditEvent).where(AuditEvent.action == "refused")
        return list((await session.exec(stmt.order_by(col(AuditEvent.id)))).all())


async def test_every_refused_command_is_audited(slack: SlackEmulator, bot: Runtime) -> None:
    for command, text, _ in COMMANDS:
        result = await slack.slash_command(STRANGER, command, text)
        said = await slack.wait_for(lambda result=result: result.responses)
        assert said[0]["text"].startswith("Only support agents can")

    audited = await refusals(bot)
    assert [
        (e.actor, e.data["action"], e.data["text"], e.data["case"], e.data["user_id"])
        for e in audited
    ] == [
        (e.actor, f"command {command}", text, case, STRANGER)
        for e, (command, text, case) in zip(audited, COMMANDS, strict=True)
    ]


async def test_a_refused_thread_reply_is_said_as_a_sentence(
    slack: SlackEmulator, bot: Runtime
) -> None:
    await slack.user_message(CUSTOMER, INTAKE, "My card was charged twice")
    posted = await card(slack, 1)
    await slack.user_message(STRANGER, SUPPORT, "Refunded!", thread_ts=posted["ts"])
    said = await slack.wait_for(lambda: ephemerals_for(slack, STRANGER))
    assert said == [
        "Only support agents can reply to customers. Your message was not sent to the customer."
    ]
    assert [e.data["action"] for e in await refusals(bot)] == ["agent_reply"]


@pytest.mark.parametrize("action", [a for a in Action if a is not Action.CUSTOMER_MESSAGE])
def test_each_refusal_is_a_sentence(action: Action) -> None:
    sentence = str(NotAllowed(action.value))
    assert sentence == REFUSALS[action.value]
    assert sentence.startswith("Only support agents can ") and sentence.endswith(".")
    assert "_" not in sentence and " may " not in sentence

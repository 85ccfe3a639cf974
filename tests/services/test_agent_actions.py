"""Agents reply, annotate, claim, resolve, escalate and close; others are refused and audited."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from services.cases import CaseService
from services.errors import CaseNotFound, InvalidTransition, NotAllowed
from services.escalation import EscalationSweep
from services.outbox import OutboxKind
from services.rules import RulesConfig
from storage.engine import SessionFactory
from storage.models import AuditEvent, CaseStatus, Direction
from tests.builders import AGENT, STRANGER, outbox_kinds, slack_message
from tests.conftest import Clock


async def test_agent_reply_is_relayed_and_resets_followups(
    service: CaseService, sessions: SessionFactory
) -> None:
    await service.intake.ingest(slack_message("hi"))
    await service.intake.ingest(slack_message("hello?"))

    result = await service.agents.message(
        case_id=1, actor=AGENT, text="On it!", source="slack", external_id="S:1"
    )

    assert not result.internal and not result.closed
    case = await service.reads.get(1)
    assert case.consecutive_customer_messages == 0 and case.last_agent_message_at is not None
    assert (await outbox_kinds(sessions, 1)).count(OutboxKind.CUSTOMER_REPLY) == 1


async def test_note_is_stored_internal_and_never_relayed(
    service: CaseService, sessions: SessionFactory
) -> None:
    await service.intake.ingest(slack_message("hi"))

    result = await service.agents.message(
        case_id=1, actor=AGENT, text="note: VIP, be nice", source="slack", external_id="S:2"
    )

    assert result.internal
    messages = await service.reads.messages(1)
    assert messages[-1].direction == Direction.INTERNAL and messages[-1].body == "VIP, be nice"
    assert OutboxKind.CUSTOMER_REPLY not in await outbox_kinds(sessions, 1)
    assert (await service.reads.get(1)).consecutive_customer_messages == 1


async def test_closure_phrase_closes_and_logs(
    service: CaseService, sessions: SessionFactory
) -> None:
    await service.intake.ingest(slack_message("hi"))

    result = await service.agents.message(
        case_id=1,
        actor=AGENT,
        text="Refund sent. I\u2019m closing this case.",
        source="slack",
        external_id="S:3",
    )

    assert result.closed
    case = await service.reads.get(1)
    assert case.status == CaseStatus.CLOSED and case.closed_by == AGENT.id
    kinds = await outbox_kinds(sessions, 1)
    assert kinds.count(OutboxKind.CLOSURE_LOG) == 1 and OutboxKind.CUSTOMER_REPLY in kinds


async def test_reply_to_a_closed_case_is_refused(service: CaseService) -> None:
    await service.intake.ingest(slack_message("hi"))
    await service.agents.close(case_id=1, actor=AGENT)
    with pytest.raises(InvalidTransition, match="closed"):
        await service.agents.message(
            case_id=1, actor=AGENT, text="hello", source="slack", external_id="S:4"
        )


@pytest.mark.parametrize("action", ["claim", "resolve", "escalate", "close", "reopen"])
async def test_non_agents_are_refused_and_audited(
    service: CaseService, sessions: SessionFactory, action: str
) -> None:
    await service.intake.ingest(slack_message("hi"))
    with pytest.raises(NotAllowed):
        await getattr(service.agents, action)(case_id=1, actor=STRANGER)

    assert (await service.reads.get(1)).status == CaseStatus.OPEN
    async with sessions() as session:
        refusals = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "refused"))
        ).all()
    assert [(r.case_id, r.data["action"], r.data["user_id"]) for r in refusals] == [
        (1, action, STRANGER.id)
    ]


async def test_non_agent_cannot_reply_or_note(service: CaseService) -> None:
    await service.intake.ingest(slack_message("hi"))
    with pytest.raises(NotAllowed):
        await service.agents.message(
            case_id=1,
            actor=STRANGER,
            text="I'm closing this case.",
            source="slack",
            external_id="x",
        )
    assert (await service.reads.get(1)).status == CaseStatus.OPEN


async def test_unknown_case(service: CaseService) -> None:
    with pytest.raises(CaseNotFound, match="#99"):
        await service.agents.resolve(case_id=99, actor=AGENT)


async def test_claim_resolve_reopen_close(service: CaseService, sessions: SessionFactory) -> None:
    await service.intake.ingest(slack_message("hi"))
    assert (await service.agents.claim(case_id=1, actor=AGENT)).assignee == AGENT.id
    assert (await service.agents.resolve(case_id=1, actor=AGENT)).status == CaseStatus.RESOLVED
    assert (await service.agents.reopen(case_id=1, actor=AGENT)).status == CaseStatus.ASSIGNED
    assert (await service.agents.close(case_id=1, actor=AGENT)).status == CaseStatus.CLOSED
    with pytest.raises(InvalidTransition):
        await service.agents.reopen(case_id=1, actor=AGENT)
    assert OutboxKind.CUSTOMER_RESOLVED in await outbox_kinds(sessions, 1)
    async with sessions() as session:
        actions = (await session.exec(select(AuditEvent.action).order_by(col(AuditEvent.id)))).all()
    assert actions == [
        "case.opened",
        "case.claimed",
        "case.resolved",
        "case.reopened",
        "case.closed",
    ]


async def test_manual_escalation_alerts_once(
    service: CaseService, sessions: SessionFactory
) -> None:
    await service.intake.ingest(slack_message("hi"))
    await service.agents.escalate(case_id=1, actor=AGENT)
    await service.agents.escalate(case_id=1, actor=AGENT)
    case = await service.reads.get(1)
    assert case.escalation_reasons == ["manual"] and case.escalation_level == 1
    assert (await outbox_kinds(sessions, 1)).count(OutboxKind.ESCALATION_ALERT) == 1


async def test_queue_order_and_claim_next(service: CaseService) -> None:
    for user in ("U1", "U2", "U3"):
        await service.intake.ingest(slack_message(f"help from {user}", user=user))
    await service.intake.ingest(slack_message("this is urgent", user="U3"))  # escalates case 3

    assert [c.number for c in await service.reads.queue()] == [3, 1, 2]
    assert (await service.agents.claim_next(actor=AGENT)).number == 3  # type: ignore[union-attr]
    assert (await service.agents.claim_next(actor=AGENT)).number == 1  # type: ignore[union-attr]
    assert (await service.agents.claim_next(actor=AGENT)).number == 2  # type: ignore[union-attr]
    assert await service.agents.claim_next(actor=AGENT) is None


async def test_find_searches_subjects_and_messages(service: CaseService) -> None:
    await service.intake.ingest(slack_message("Card declined", user="U1"))
    await service.intake.ingest(slack_message("Login broken", user="U2"))
    await service.intake.ingest(slack_message("also my 100% refund_id", user="U2"))

    assert [c.number for c in await service.reads.find("DECLINED")] == [1]
    assert [c.number for c in await service.reads.find("100%")] == [2]
    assert [c.number for c in await service.reads.find("refund_id")] == [2]
    assert await service.reads.find("nothing like it") == []


async def test_sweep_escalates_waiting_customers_once(
    sessions: SessionFactory, clock: Clock, service: CaseService
) -> None:
    rules = RulesConfig(inactivity_hours=0.5)
    sweep = EscalationSweep(sessions, rules=rules, clock=clock)
    await service.intake.ingest(slack_message("hello", user="U1"))
    await service.intake.ingest(slack_message("hello", user="U2"))
    await service.agents.message(
        case_id=2, actor=AGENT, text="answered", source="slack", external_id="S:9"
    )

    clock.advance(minutes=29)
    assert await sweep.run() == 0
    clock.advance(minutes=1)
    assert await sweep.run() == 1
    assert await sweep.run() == 0
    assert (await service.reads.get(1)).escalation_reasons == ["inactivity"]
    assert (await service.reads.get(2)).escalation_reasons == []
    assert (await outbox_kinds(sessions, 1)).count(OutboxKind.ESCALATION_ALERT) == 1

"""Resolved cases close on their own after AUTO_CLOSE_DAYS; a customer who has not answered an
agent's question for CUSTOMER_NUDGE_HOURS is nudged once (both backends)."""

from __future__ import annotations

import asyncio

from sqlmodel import col, select

from services.cases import CaseService
from services.cases.follow_ups import FollowUpConfig, FollowUpSweep
from services.outbox import OutboxKind
from storage.engine import SessionFactory
from storage.models import AuditEvent, CaseStatus, OutboxItem
from tests.builders import AGENT, outbox_kinds, slack_message
from tests.conftest import Clock


def sweep(sessions: SessionFactory, clock: Clock) -> FollowUpSweep:
    return FollowUpSweep(sessions, FollowUpConfig(auto_close_days=7, nudge_hours=48), clock=clock)


async def reply(service: CaseService, clock: Clock, text: str, n: int = 1) -> None:
    clock.advance(minutes=5)  # the agent answers a little after the customer wrote
    await service.agents.message(
        case_id=1, actor=AGENT, text=text, source="slack", external_id=f"S:{n}"
    )


async def test_a_resolved_case_closes_after_seven_days_logged_as_casebot_auto(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(slack_message("my refund?"))
    await service.agents.resolve(case_id=1, actor=AGENT)

    clock.advance(days=6, hours=23)
    assert await sweep(sessions, clock).close_resolved() == 0
    clock.advance(hours=1)
    assert await sweep(sessions, clock).close_resolved() == 1
    assert await sweep(sessions, clock).close_resolved() == 0, "once"

    case = await service.reads.get(1)
    assert case.status == CaseStatus.CLOSED and case.closed_by == "casebot (auto)"
    async with sessions() as session:
        [log] = (
            await session.exec(
                select(OutboxItem).where(OutboxItem.kind == OutboxKind.CLOSURE_LOG.value)
            )
        ).all()
        [closed] = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "case.closed"))
        ).all()
    assert log.payload["closed_by"] == "casebot (auto)"
    assert log.payload["closed_at"] == clock.now.isoformat()
    assert (closed.actor, closed.data) == ("casebot (auto)", {"reason": "resolved, no reply"})


async def test_an_open_or_reopened_case_is_never_auto_closed(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(slack_message("help"))
    clock.advance(days=30)
    assert await sweep(sessions, clock).close_resolved() == 0
    assert (await service.reads.get(1)).status == CaseStatus.OPEN


async def test_an_unanswered_question_gets_one_nudge_a_statement_none(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(slack_message("my card does not work"))
    await reply(service, clock, "Which card is it, the debit or the credit one?")

    clock.advance(hours=47)
    assert await sweep(sessions, clock).nudge() == 0, "not yet"
    clock.advance(hours=2)
    assert await sweep(sessions, clock).nudge() == 1
    clock.advance(hours=100)
    assert await sweep(sessions, clock).nudge() == 0, "one nudge per question"
    assert (await outbox_kinds(sessions, 1)).count(OutboxKind.CUSTOMER_NUDGE) == 1

    await reply(service, clock, "We sent a new card.", n=2)  # no question: nothing to wait for
    clock.advance(hours=49)
    assert await sweep(sessions, clock).nudge() == 0
    await reply(service, clock, "Did it arrive? See https://example.com/track?id=7", n=3)
    clock.advance(hours=49)
    assert await sweep(sessions, clock).nudge() == 1, "a new question, a new nudge"


async def test_a_customer_who_answered_is_not_nudged(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(slack_message("my card does not work"))
    await reply(service, clock, "Which card is it?")
    clock.advance(hours=1)
    await service.intake.ingest(slack_message("the debit one"))
    clock.advance(hours=72)
    assert await sweep(sessions, clock).nudge() == 0


async def test_two_processes_close_and_nudge_each_case_once(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    for n in range(1, 6):
        await service.intake.ingest(slack_message(f"case {n}", user=f"UC{n}"))
        await service.agents.resolve(case_id=n, actor=AGENT)
    clock.advance(days=8)
    results = await asyncio.gather(
        sweep(sessions, clock).close_resolved(), sweep(sessions, clock).close_resolved()
    )
    assert sum(results) == 5
    async with sessions() as session:
        logs = (
            await session.exec(
                select(OutboxItem).where(col(OutboxItem.kind) == OutboxKind.CLOSURE_LOG.value)
            )
        ).all()
    assert len(logs) == 5

"""Customer messages open or continue cases (business rule 1)."""

from __future__ import annotations

import asyncio

from sqlalchemy import event
from sqlmodel import select

from services.cases import CaseService
from services.cases.intake_line import GROUP
from services.outbox import OutboxKind
from services.rules import RulesConfig
from storage.engine import SessionFactory, create_engine, create_session_factory
from storage.models import CaseStatus, Customer, Message
from tests.builders import AGENT, outbox_kinds, slack_message
from tests.conftest import Clock


async def test_first_message_opens_case_one_with_card_and_ack(
    service: CaseService, sessions: SessionFactory
) -> None:
    result = await service.intake.ingest(slack_message("My card was charged twice"))

    assert result.created and result.case.number == 1
    assert result.case.status == CaseStatus.OPEN
    assert result.case.subject == "My card was charged twice"
    assert result.case.consecutive_customer_messages == 1
    assert await outbox_kinds(sessions, 1) == [
        OutboxKind.CUSTOMER_ACK,
        OutboxKind.CASE_CARD,
        OutboxKind.CASE_THREAD,
    ]


async def test_second_message_continues_the_open_case(service: CaseService) -> None:
    first = await service.intake.ingest(slack_message("hello"))
    second = await service.intake.ingest(slack_message("anyone there?"))

    assert not second.created
    assert second.case.number == first.case.number
    assert second.case.consecutive_customer_messages == 2


async def test_redelivered_message_has_one_effect(
    service: CaseService, sessions: SessionFactory
) -> None:
    message = slack_message("hello", ts="1700000001.000001")
    await service.intake.ingest(message)
    again = await service.intake.ingest(message)

    assert again.duplicate
    async with sessions() as session:
        assert len((await session.exec(select(Message))).all()) == 1
        assert len((await session.exec(select(Customer))).all()) == 1
    assert await outbox_kinds(sessions, 1) == [
        OutboxKind.CUSTOMER_ACK,
        OutboxKind.CASE_CARD,
        OutboxKind.CASE_THREAD,
    ]


async def test_closed_case_is_never_reopened_by_a_new_message(service: CaseService) -> None:
    first = await service.intake.ingest(slack_message("hello"))
    await service.agents.close(case_id=first.case.number, actor=AGENT)

    after = await service.intake.ingest(slack_message("one more thing"))

    assert after.created and after.case.number == 2
    assert (await service.reads.get(1)).status == CaseStatus.CLOSED


async def test_resolved_case_reopens_within_window_and_not_after(
    service: CaseService, clock: Clock
) -> None:
    first = await service.intake.ingest(slack_message("hello"))
    await service.agents.resolve(case_id=first.case.number, actor=AGENT)

    clock.advance(hours=1)
    reopened = await service.intake.ingest(slack_message("still broken"))
    assert reopened.reopened and reopened.case.number == 1
    assert reopened.case.status == CaseStatus.OPEN

    await service.agents.resolve(case_id=1, actor=AGENT)
    clock.advance(hours=73)
    later = await service.intake.ingest(slack_message("new problem"))
    assert later.created and later.case.number == 2


async def test_third_consecutive_message_escalates_once(service: CaseService) -> None:
    results = [await service.intake.ingest(slack_message(f"ping {i}")) for i in range(5)]

    assert [r.escalated for r in results] == [(), (), ("followups",), (), ()]
    case = await service.reads.get(1)
    assert case.escalation_reasons == ["followups"] and case.escalation_level == 1


async def test_urgent_keyword_escalates_on_ingest(service: CaseService) -> None:
    result = await service.intake.ingest(slack_message("This is URGENT, please"))
    assert result.escalated == ("keyword",)


async def test_keyword_inside_a_word_does_not_escalate(service: CaseService) -> None:
    result = await service.intake.ingest(slack_message("not urgently needed, nonurgent"))
    assert result.escalated == ()


async def test_a_burst_is_stored_in_groups_on_one_connection(
    backend: str, db_url: str, clock: Clock, rules: RulesConfig
) -> None:
    """Eighty customers at once: the burst goes through in a few transactions of up to
    GROUP messages on one connection, so it neither queues on the pool past its timeout nor
    pays for a transaction per message; all are stored, each once, in the order they came."""
    engine = create_engine(db_url)
    checked_out = {"now": 0, "most": 0, "commits": 0}

    def checkout(*_: object) -> None:
        checked_out["now"] += 1
        checked_out["most"] = max(checked_out["most"], checked_out["now"])

    def checkin(*_: object) -> None:
        checked_out["now"] -= 1

    def commit(*_: object) -> None:
        checked_out["commits"] += 1

    event.listen(engine.sync_engine, "checkout", checkout)
    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "commit", commit)
    try:
        service = CaseService(create_session_factory(engine), rules=rules, clock=clock)
        burst = [slack_message(f"question {n}", user=f"U{n}") for n in range(80)]
        results = await asyncio.gather(*(service.intake.ingest(m) for m in burst))
    finally:
        await engine.dispose()
    assert [r.case.number for r in results] == list(range(1, 81))
    assert checked_out["most"] == 1, "one group at a time"
    assert 1 <= checked_out["commits"] <= -(-80 // GROUP) + 1, checked_out

"""Every new case is triaged: request type, category, confidence, urgency, SLA (issue #4)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import col, select

from services.cases import CaseService
from services.escalation import EscalationSweep
from services.rules import RulesConfig
from services.triage.catalog import Catalog
from services.triage.service import Triage, Triager
from storage.engine import SessionFactory
from storage.models import AuditEvent
from tests.builders import AGENT, slack_message
from tests.conftest import Clock


@pytest.fixture
async def triager(catalog: Catalog) -> AsyncIterator[Triager]:
    triager = Triager(catalog, urgent_keywords=RulesConfig().urgent_keywords)
    await triager.start()
    assert triager.mode == "local"
    yield triager


@pytest.fixture
def cases(
    sessions: SessionFactory, clock: Clock, rules: RulesConfig, triager: Triager
) -> CaseService:
    return CaseService(sessions, rules=rules, clock=clock, triage=triager)


async def test_a_new_case_gets_its_type_category_confidence_and_catalog_sla(
    cases: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    result = await cases.intake.ingest(
        slack_message("Hi, I was charged twice for the same groceries")
    )
    case = result.case
    assert (case.request_type, case.category, case.triage_source) == (
        "duplicate_payment",
        "payments",
        "local",
    )
    assert case.triage_confidence is not None and 0 < case.triage_confidence <= 1
    assert case.sla_due_at == clock.now + timedelta(hours=8)  # from the catalog
    assert 0 <= case.urgency < 0.8 and not result.escalated
    async with sessions() as session:
        audits = (await session.exec(select(AuditEvent).where(AuditEvent.case_id == 1))).all()
    triaged = [a for a in audits if a.action == "case.triaged"]
    assert len(triaged) == 1 and triaged[0].data["request_type"] == "duplicate_payment"


def counted(triager: Triager) -> list[str]:
    """The texts `triager` is asked to classify from now on, in order."""
    calls: list[str] = []
    classify = triager.classify

    async def counting(text: str, *, followups: int = 1) -> Triage:
        calls.append(text)
        return await classify(text, followups=followups)

    triager.classify = counting  # type: ignore[method-assign]
    return calls


async def test_follow_ups_are_not_triaged_again(cases: CaseService, triager: Triager) -> None:
    calls = counted(triager)
    await cases.intake.ingest(slack_message("My card was stolen on the train"))
    second = await cases.intake.ingest(slack_message("Also the app shows an error"))
    assert calls == ["My card was stolen on the train"]
    assert second.case.request_type == "lost_or_stolen"


async def test_an_urgent_fraud_report_escalates_on_urgency_too(cases: CaseService) -> None:
    result = await cases.intake.ingest(
        slack_message("URGENT: there are payments on my card that I never made")
    )
    assert result.case.request_type == "fraud_report"
    assert result.case.urgency > 0.8
    assert set(result.escalated) == {"keyword", "urgency"}


async def test_no_answer_within_the_sla_escalates_once(
    cases: CaseService, sessions: SessionFactory, clock: Clock, rules: RulesConfig
) -> None:
    sweep = EscalationSweep(sessions, rules=rules, clock=clock)
    await cases.intake.ingest(slack_message("My card was stolen"))  # SLA: 1 hour
    answered = await cases.intake.ingest(slack_message("Help, I forgot my PIN", user="UOTHER"))
    await cases.agents.message(
        case_id=answered.case.number,
        actor=AGENT,
        text="Let's reset it",
        source="slack",
        external_id="A:1",
    )
    clock.advance(minutes=59)
    assert await sweep.run() == 0
    clock.advance(minutes=2)
    assert await sweep.run() == 1  # only the unanswered case
    assert await sweep.run() == 0
    assert (await cases.reads.get(1)).escalation_reasons == ["sla"]
    assert (await cases.reads.get(answered.case.number)).escalation_reasons == []


async def test_without_a_model_keyword_rules_answer(
    sessions: SessionFactory, clock: Clock, rules: RulesConfig, catalog: Catalog
) -> None:
    triager = Triager(catalog, urgent_keywords=(), encoder=lambda: None)
    await triager.start()
    assert triager.mode == "keywords (no model)"
    cases = CaseService(sessions, rules=rules, clock=clock, triage=triager)
    case = (await cases.intake.ingest(slack_message("The whole API is down for everyone"))).case
    assert (case.request_type, case.triage_source) == ("outage", "keywords")
    assert case.triage_confidence is not None and case.triage_confidence <= 0.5


async def test_without_triage_cases_still_open(service: CaseService) -> None:
    case = (await service.intake.ingest(slack_message("hello"))).case
    assert case.request_type is None and case.sla_due_at is None


async def test_a_redelivered_message_is_not_classified(
    cases: CaseService, triager: Triager, sessions: SessionFactory
) -> None:
    message = slack_message("I lost my card")
    await cases.intake.ingest(message)
    calls: list[str] = []

    async def refuse(text: str, *, followups: int = 1) -> Triage:
        calls.append(text)
        raise AssertionError("classified a duplicate")

    triager.classify = refuse  # type: ignore[method-assign]
    assert (await cases.intake.ingest(message)).duplicate
    assert calls == []
    async with sessions() as session:
        opened = await session.exec(
            select(AuditEvent).where(col(AuditEvent.action) == "case.opened")
        )
        assert len(opened.all()) == 1


async def test_first_contacts_are_classified_once_and_redeliveries_not_at_all(
    cases: CaseService, triager: Triager
) -> None:
    """A burst of customers never seen: each message is classified once, before its one
    pass; the same messages delivered again are duplicates, with no model call."""
    calls = counted(triager)
    burst = [slack_message(f"My card number {n} was stolen", user=f"U{n}") for n in range(20)]
    results = await asyncio.gather(*(cases.intake.ingest(m) for m in burst))
    assert all(r.created and r.case.request_type == "lost_or_stolen" for r in results)
    assert sorted(calls) == sorted(m.body for m in burst)

    again = await asyncio.gather(*(cases.intake.ingest(m) for m in burst))
    assert all(r.duplicate for r in again)
    assert len(calls) == 20

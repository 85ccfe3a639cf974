"""Agents correct a case's request type; triage learns from every correction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import select

from services.cases import CaseService
from services.errors import InvalidTransition, NotAllowed
from services.rules import RulesConfig
from services.triage.catalog import Catalog, UnknownName
from services.triage.learning import learnt
from services.triage.service import Triager
from storage.engine import SessionFactory
from storage.models import AuditEvent, LabelledExample
from tests.builders import AGENT, STRANGER, slack_message
from tests.conftest import Clock

# Not in the catalog's words: the shipped catalog sends it elsewhere.
LOYALTY = "The loyalty points from my last flight never appeared"


@pytest.fixture
async def cases(
    sessions: SessionFactory, clock: Clock, rules: RulesConfig, catalog: Catalog
) -> AsyncIterator[CaseService]:
    triager = Triager(catalog, urgent_keywords=rules.urgent_keywords)
    await triager.start(lambda dimension: learnt(sessions, dimension))
    service = CaseService(sessions, rules=rules, clock=clock, triage=triager)
    yield service
    await service.learning.learnt()  # a correction's refit reads the database: done before it goes


async def test_a_correction_sets_type_and_sla_and_is_learnt(
    cases: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    opened = (await cases.intake.ingest(slack_message(LOYALTY))).case
    assert opened.request_type != "refund_request"
    clock.advance(minutes=5)
    case = await cases.triage.correct_type(case_id=opened.number, actor=AGENT, type_name="Refund")
    assert (case.request_type, case.category, case.triage_source) == (
        "refund_request",
        "payments",
        "agent",
    )
    assert case.triage_confidence == 1.0
    assert case.sla_due_at == opened.created_at + timedelta(hours=24)
    async with sessions() as session:
        examples = (await session.exec(select(LabelledExample))).all()
        audits = (await session.exec(select(AuditEvent).where(AuditEvent.case_id == 1))).all()
    assert [(e.text, e.request_type, e.source, e.actor) for e in examples] == [
        (LOYALTY, "refund_request", "correction", "UAGENT")
    ]
    assert examples[0].vector is not None and len(examples[0].vector) == 384 * 4
    assert any(
        a.action == "case.recategorised" and a.data["new"] == "refund_request" for a in audits
    )


async def test_what_was_corrected_is_classified_so_from_then_on(cases: CaseService) -> None:
    teach = [
        LOYALTY,
        "My frequent flyer miles are missing",
        "Bonus points for the hotel stay were not credited",
    ]
    for n, text in enumerate(teach):
        case = (await cases.intake.ingest(slack_message(text, user=f"U{n}"))).case
        await cases.triage.correct_type(
            case_id=case.number, actor=AGENT, type_name="refund_request"
        )
    await cases.learning.learnt()
    fresh = await cases.intake.ingest(
        slack_message("Where are the reward miles for my trip?", user="UX")
    )
    assert fresh.case.request_type == "refund_request"


async def test_a_second_correction_replaces_the_first(
    cases: CaseService, sessions: SessionFactory
) -> None:
    case = (await cases.intake.ingest(slack_message(LOYALTY))).case
    await cases.triage.correct_type(case_id=case.number, actor=AGENT, type_name="fees_and_charges")
    await cases.triage.correct_type(case_id=case.number, actor=AGENT, type_name="refund_request")
    async with sessions() as session:
        examples = (await session.exec(select(LabelledExample))).all()
    assert [e.request_type for e in examples] == ["refund_request"]


async def test_only_agents_correct_and_only_to_catalog_types(cases: CaseService) -> None:
    case = (await cases.intake.ingest(slack_message(LOYALTY))).case
    with pytest.raises(NotAllowed):
        await cases.triage.correct_type(
            case_id=case.number, actor=STRANGER, type_name="refund_request"
        )
    with pytest.raises(UnknownName):
        await cases.triage.correct_type(case_id=case.number, actor=AGENT, type_name="loyalty")
    await cases.agents.close(case_id=case.number, actor=AGENT)
    with pytest.raises(InvalidTransition, match="cannot be recategorised"):
        await cases.triage.correct_type(
            case_id=case.number, actor=AGENT, type_name="refund_request"
        )
    assert (await cases.reads.get(case.number)).triage_source == "local"


async def test_another_process_learns_the_correction_at_its_next_refresh(
    sessions: SessionFactory, clock: Clock, rules: RulesConfig, catalog: Catalog
) -> None:
    async def process() -> CaseService:
        triager = Triager(catalog, urgent_keywords=rules.urgent_keywords)
        await triager.start(lambda dimension: learnt(sessions, dimension))
        service = CaseService(sessions, rules=rules, clock=clock, triage=triager)
        await service.learning.mark_learnt()
        return service

    first, second = await process(), await process()
    assert await second.learning.refresh() == 0  # nothing new yet
    teach = [LOYALTY, "My frequent flyer miles are missing", "Bonus points were not credited"]
    for n, text in enumerate(teach):
        case = (await first.intake.ingest(slack_message(text, user=f"U{n}"))).case
        await first.triage.correct_type(
            case_id=case.number, actor=AGENT, type_name="refund_request"
        )
    await first.learning.learnt()

    assert await second.learning.refresh() == 1
    await second.learning.learnt()
    assert await second.learning.refresh() == 0  # up to date now
    fresh = await second.intake.ingest(
        slack_message("Where are the reward miles for my trip?", user="UX")
    )
    assert fresh.case.request_type == "refund_request"

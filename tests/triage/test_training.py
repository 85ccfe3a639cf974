"""Bulk work: importing labelled history, scoring, and re-triaging a backlog."""

from __future__ import annotations

import pytest
from sqlmodel import select

from services.cases import CaseService
from services.rules import RulesConfig
from services.triage.catalog import Catalog
from services.triage.learning import learnt
from services.triage.local import Example
from services.triage.service import Triager
from services.triage.training import import_history, score
from storage.engine import SessionFactory
from storage.models import AuditEvent, LabelledExample
from tests.builders import AGENT, slack_message
from tests.conftest import Clock


@pytest.fixture
async def triager(catalog: Catalog, sessions: SessionFactory) -> Triager:
    triager = Triager(catalog, urgent_keywords=())
    await triager.start(lambda dimension: learnt(sessions, dimension))
    return triager


async def test_imported_history_is_stored_once_with_vectors(
    sessions: SessionFactory, triager: Triager
) -> None:
    examples = [
        Example("my miles are missing", "refund_request", "miles"),
        Example("card got eaten", "lost_or_stolen", "swallowed"),
        Example("my miles are missing", "refund_request", "miles"),  # a repeated row
    ]
    seen: list[int] = []
    first = await import_history(sessions, triager, examples, progress=seen.append)
    again = await import_history(sessions, triager, examples[:2])
    assert (first.stored, first.already_known, sum(seen)) == (2, 1, 3)
    assert (again.stored, again.already_known) == (0, 2)
    async with sessions() as session:
        rows = (await session.exec(select(LabelledExample))).all()
    assert [(r.text, r.sublabel, r.source, len(r.vector or b"")) for r in rows] == [
        ("my miles are missing", "miles", "import", 1536),
        ("card got eaten", "swallowed", "import", 1536),
    ]
    assert len(await learnt(sessions, 384)) == 2
    assert await learnt(sessions, 768) == []  # vectors of another model are not mixed in


def test_score_reports_accuracy_macro_f1_and_the_confusion_matrix() -> None:
    truth = ["a", "a", "b", "b"]
    report = score(truth, ["a", "b", "b", "c"])
    assert report.accuracy == 0.5
    assert report.per_type_f1 == {"a": pytest.approx(0.6667, abs=1e-4), "b": 0.5}
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.5) / 2)
    assert report.labels == ["a", "b", "c"]  # a predicted label outside the truth is shown
    assert report.confusion == [[1, 1, 0], [0, 1, 1], [0, 0, 0]]
    assert "0 a" in report.table() and "2 c" in report.table()


async def test_the_backlog_is_retriaged_but_agents_choices_stay(
    sessions: SessionFactory, clock: Clock, triager: Triager
) -> None:
    cases = CaseService(sessions, rules=RulesConfig(), clock=clock, triage=triager)
    plain = CaseService(sessions, rules=RulesConfig(), clock=clock)  # as before triage existed
    await plain.intake.ingest(slack_message("I was charged twice for one order", user="U1"))
    await plain.intake.ingest(slack_message("my card was stolen", user="U2"))
    typed = (await cases.intake.ingest(slack_message("hello there", user="U3"))).case
    await cases.triage.correct_type(case_id=typed.number, actor=AGENT, type_name="outage")
    closed = (await plain.intake.ingest(slack_message("refund please", user="U4"))).case
    await plain.agents.close(case_id=closed.number, actor=AGENT)

    progress: list[int] = []
    seen, changed = await cases.triage.retriage_backlog(batch=1, progress=progress.append)
    assert (seen, changed, progress) == (2, 2, [1, 1])
    assert [(await cases.reads.get(n)).request_type for n in (1, 2, 3, 4)] == [
        "duplicate_payment",
        "lost_or_stolen",
        "outage",
        None,
    ]
    assert (await cases.triage.retriage_backlog()) == (2, 0)  # nothing changes a second time
    async with sessions() as session:
        audits = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "case.retriaged"))
        ).all()
    assert len(audits) == 2

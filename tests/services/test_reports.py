"""Reports: which cases a report lists and in what order, the workbook it makes, and that each
scheduled slot is recorded (and queued) once."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart
from sqlmodel import select

from services.outbox import OutboxKind
from services.report_data import ReportData, gather, ordered, report_row
from services.report_workbook import CASES_SHEET, CATEGORIES_SHEET, COLUMNS, build_workbook
from services.reports import ReportConfig, ReportService, slot_key
from services.types import Actor
from storage.engine import SessionFactory, create_engine, create_session_factory
from storage.models import Case, CaseStatus, Customer, OutboxItem, Report
from tests.conftest import Clock

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
INJECTION = "=cmd|' /C calc'!A0"


def case(number: int, **fields: Any) -> Case:
    values: dict[str, Any] = {
        "id": number,
        "customer_id": number,
        "subject": f"Case {number}",
        "source": "slack",
        "created_at": NOW - timedelta(days=1, minutes=number),
    }
    values.update(fields)
    return Case(**values)


def customer(number: int, **fields: Any) -> Customer:
    return Customer(id=number, name=f"Customer {number}", email=f"c{number}@example.org", **fields)


async def store(sessions: SessionFactory, *cases: Case) -> None:
    async with sessions() as session, session.begin():
        for c in cases:
            session.add(customer(c.number))
        await session.flush()
        for c in cases:
            session.add(c)


def sample() -> list[Case]:
    """Six listed cases in a known priority order, and two too old to be listed."""
    return [
        case(1, urgency=0.2),  # 5th: active, low urgency, no SLA
        case(2, urgency=0.9, escalation_level=1, escalation_reasons=["urgency"]),  # 1st
        case(3, urgency=0.5, sla_due_at=NOW - timedelta(hours=2), category="billing"),  # 3rd
        case(4, urgency=0.5, sla_due_at=NOW + timedelta(hours=2), category="billing"),  # 4th
        case(5, urgency=0.95, status=CaseStatus.ASSIGNED, assignee="UAGENT"),  # 2nd
        case(
            6,
            status=CaseStatus.RESOLVED,
            resolved_at=NOW - timedelta(days=2),
            category="shipping",
        ),  # 6th: resolved lately
        case(7, status=CaseStatus.CLOSED, closed_at=NOW - timedelta(days=30)),  # too old
        case(8, status=CaseStatus.RESOLVED, resolved_at=NOW - timedelta(days=8)),  # too old
    ]


async def test_a_report_lists_open_cases_by_priority_then_recent_ones(
    sessions: SessionFactory,
) -> None:
    await store(sessions, *sample())
    seen: list[tuple[int, int]] = []

    data = await gather(
        sessions,
        now=NOW,
        window_days=7,
        page_size=2,
        progress=lambda done, total: seen.append((done, total)),
    )

    assert [row.number for row in data.rows] == [2, 5, 3, 4, 1, 6]
    assert seen == [(2, 6), (4, 6), (6, 6)], "read in pages, with progress"
    breached = {row.number for row in data.rows if row.sla_breached}
    assert breached == {3}
    counts = {c.category: (c.open, c.resolved, c.closed) for c in data.categories}
    assert counts == {"(untriaged)": (3, 0, 0), "billing": (2, 0, 0), "shipping": (0, 1, 0)}


def open_back(content: bytes) -> Any:
    return load_workbook(io.BytesIO(content))


async def test_the_workbook_has_its_order_formatting_breaches_and_chart(
    sessions: SessionFactory,
) -> None:
    await store(sessions, *sample())
    data = await gather(sessions, now=NOW, window_days=7)

    wb = open_back(build_workbook(data))

    assert wb.sheetnames == [CASES_SHEET, CATEGORIES_SHEET]
    ws = wb[CASES_SHEET]
    header = [cell.value for cell in ws[1]]
    assert header == list(COLUMNS)
    assert [row[0].value for row in ws.iter_rows(min_row=2)] == [2, 5, 3, 4, 1, 6]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:R{len(data.rows) + 1}"
    assert all(ws.column_dimensions[letter].width >= 6 for letter in "ABCDEFGHIJKLMNOP")
    assert ws.column_dimensions["C"].width > ws.column_dimensions["A"].width
    column = {name: index for index, name in enumerate(COLUMNS)}
    filled = {
        row[0].value
        for row in ws.iter_rows(min_row=2)
        if row[column["SLA breached"]].fill.fgColor.rgb == "FFFFC7CE"
    }
    assert filled == {3}
    third = next(row for row in ws.iter_rows(min_row=2) if row[0].value == 3)
    assert third[column["SLA due (UTC)"]].value == datetime(2026, 11, 24, 6, 0)
    assert third[column["SLA due (UTC)"]].number_format == "yyyy-mm-dd hh:mm"

    counts = wb[CATEGORIES_SHEET]
    assert [[c.value for c in row] for row in counts.iter_rows()] == [
        ["Category", "Open", "Resolved", "Closed"],
        ["(untriaged)", 3, 0, 0],
        ["billing", 2, 0, 0],
        ["shipping", 0, 1, 0],
    ]
    charts = counts._charts
    assert len(charts) == 1 and isinstance(charts[0], BarChart)


def test_odd_text_is_written_as_text_never_as_a_formula() -> None:
    long_subject = "Très long sujet 🚀 " * 2500  # past Excel's 32,767 characters per cell
    cases = [
        case(1, subject=INJECTION),
        case(2, subject=long_subject, category="+1+2"),
        case(3, subject="@SUM(A1)\x00\x07 bell", request_type="-2+3"),
        case(4, subject="日本語の件名 — ünïcödé"),
    ]
    rows = ordered([report_row(c, customer(c.number), NOW) for c in cases])
    data = ReportData(generated_at=NOW, window_days=7, rows=rows, categories=())

    ws = open_back(build_workbook(data))[CASES_SHEET]

    by_number = {row[0].value: row for row in ws.iter_rows(min_row=2)}
    subject, category, request_type = (
        COLUMNS.index(n) for n in ("Subject", "Category", "Request type")
    )
    first = by_number[1][subject]
    assert first.value == INJECTION and first.data_type == "s"
    assert first.quotePrefix, "shown as text by spreadsheets, and in a CSV export"
    assert by_number[2][subject].value == long_subject[:32_767]
    assert by_number[2][category].value == "+1+2" and by_number[2][category].data_type == "s"
    assert by_number[3][subject].value == "@SUM(A1)\ufffd\ufffd bell"
    assert by_number[3][request_type].value == "-2+3"
    assert by_number[4][subject].value == "日本語の件名 — ünïcödé"
    assert ws.column_dimensions["C"].width <= 60


async def test_an_empty_database_makes_a_report_too(sessions: SessionFactory) -> None:
    data = await gather(sessions, now=NOW, window_days=7)
    wb = open_back(build_workbook(data))
    assert wb[CASES_SHEET].max_row == 1
    assert (
        data.summary()
        == "0 open case(s), 0 resolved or closed in the last 7 day(s), 0 open past its SLA"
    )


async def reports_and_mails(sessions: SessionFactory) -> tuple[list[Report], list[OutboxItem]]:
    async with sessions() as session:
        reports = list((await session.exec(select(Report))).all())
        mails = (await session.exec(select(OutboxItem))).all()
    return reports, [m for m in mails if m.kind == OutboxKind.REPORT_EMAIL.value]


async def test_a_slot_is_recorded_once_with_one_mail_per_recipient(
    sessions: SessionFactory, clock: Clock
) -> None:
    await store(sessions, *sample())
    config = ReportConfig(recipients=("lead@example.com", "ops@example.com"))
    reports = ReportService(sessions, config, clock=clock)

    first = await reports.scheduled(NOW)
    again = await reports.scheduled(NOW)

    assert first is not None and again is None
    stored, mails = await reports_and_mails(sessions)
    assert [r.key for r in stored] == [slot_key(NOW)] == ["cron:2026-11-24T08:00Z"]
    assert stored[0].recipients == list(config.recipients) and stored[0].case_count == 6
    assert sorted(m.payload["to"] for m in mails) == sorted(config.recipients)
    assert open_back(stored[0].content)[CASES_SHEET].max_row == 7


async def test_two_processes_on_one_slot_record_it_once(db_url: str, clock: Clock) -> None:
    """Each 'process' with its own engine (its own connections), at the same moment."""
    engines = [create_engine(db_url), create_engine(db_url)]
    try:
        factories = [create_session_factory(engine) for engine in engines]
        await store(factories[0], *sample())
        config = ReportConfig(recipients=("lead@example.com",))
        services = [ReportService(f, config, clock=clock) for f in factories]

        results = await asyncio.gather(*(s.scheduled(NOW) for s in services * 2))

        assert sum(r is not None for r in results) == 1
        stored, mails = await reports_and_mails(factories[1])
        assert len(stored) == 1 and len(mails) == 1
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_request_is_only_for_agents_and_shared_in_their_dm(
    sessions: SessionFactory, clock: Clock
) -> None:
    reports = ReportService(sessions, ReportConfig(recipients=("lead@example.com",)), clock=clock)
    with pytest.raises(Exception, match="Only support agents"):
        await reports.request(Actor(id="USTRANGE"))

    made = await reports.request(Actor(id="UAGENT", is_agent=True), request_id="trigger-1")
    redelivered = await reports.request(Actor(id="UAGENT", is_agent=True), request_id="trigger-1")

    assert made.id == redelivered.id
    async with sessions() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    assert sorted((r.kind, r.payload.get("to") or r.payload.get("user")) for r in rows) == [
        (OutboxKind.REPORT_EMAIL.value, "lead@example.com"),
        (OutboxKind.REPORT_UPLOAD.value, "UAGENT"),
    ]

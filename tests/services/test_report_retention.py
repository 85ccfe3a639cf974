"""REPORT_RETENTION_DAYS: a report (and the file kept with it) is deleted once it is older
than the retention and every delivery of its has gone out or been given up."""

from __future__ import annotations

from sqlmodel import col, select, update

from services.reports import ReportConfig, ReportService
from services.types import Actor
from storage.engine import SessionFactory
from storage.models import AuditEvent, OutboxItem, OutboxStatus, Report
from tests.conftest import Clock

AGENT = Actor(id="UAGENT", is_agent=True)


async def settle_deliveries(sessions: SessionFactory, report_id: int, status: OutboxStatus) -> None:
    async with sessions() as session, session.begin():
        rows = (await session.exec(select(OutboxItem))).all()
        ids = [row.id for row in rows if row.payload.get("report_id") == report_id]
        await session.exec(
            update(OutboxItem).where(col(OutboxItem.id).in_(ids)).values(status=status)
        )


async def test_old_settled_reports_go_recent_and_waiting_ones_stay(
    sessions: SessionFactory, clock: Clock
) -> None:
    config = ReportConfig(recipients=("lead@example.com",), retention_days=90)
    reports = ReportService(sessions, config, clock=clock)
    sent = await reports.request(AGENT, request_id="old-sent")
    given_up = await reports.request(AGENT, request_id="old-dead")
    waiting = await reports.request(AGENT, request_id="old-waiting")
    await settle_deliveries(sessions, sent.id or 0, OutboxStatus.DONE)
    await settle_deliveries(sessions, given_up.id or 0, OutboxStatus.DEAD)
    clock.advance(days=89)
    recent = await reports.request(AGENT, request_id="recent")
    await settle_deliveries(sessions, recent.id or 0, OutboxStatus.DONE)

    assert await reports.prune() == 0, "nothing is 90 days old yet"
    clock.advance(days=2)
    assert await reports.prune() == 2
    assert await reports.prune() == 0, "a second sweep finds nothing more"

    async with sessions() as session:
        kept = [r.id for r in (await session.exec(select(Report).order_by(col(Report.id)))).all()]
        audits = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "reports.pruned"))
        ).all()
    assert kept == [waiting.id, recent.id], "a report still waiting for SMTP keeps its file"
    assert [a.data["count"] for a in audits] == [2]

    await settle_deliveries(sessions, waiting.id or 0, OutboxStatus.DONE)
    assert await reports.prune() == 1


async def test_the_retention_is_a_setting_with_a_default_of_90_days() -> None:
    from bot.settings import Settings

    assert Settings(_env_file=None).report_retention_days == 90  # type: ignore[call-arg]
    assert Settings(_env_file=None, report_retention_days=7).report_retention_days == 7  # type: ignore[call-arg]

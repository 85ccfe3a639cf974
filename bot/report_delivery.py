"""Delivers a report's outbox rows: the file by mail to a recipient (the email channel), or
into the requesting agent's DM (the Slack channel)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from handlers.email.report_mail import PendingReport, ReportMailer
from handlers.slack.report_upload import share_in_dm
from services.outbox import NoSender, OutboxKind
from services.reports import ReportService
from storage.models import OutboxItem, Report


class ReportDelivery:
    def __init__(
        self, reports: ReportService, client: AsyncWebClient, mailer: ReportMailer | None
    ) -> None:
        self._reports = reports
        self._client = client
        self._mailer = mailer

    async def mail(self, item: OutboxItem) -> None:
        """One mail for every report waiting for this recipient (a merged row's `batch`)."""
        if self._mailer is None:
            raise NoSender("a report to mail, but SMTP_SERVER is not configured")
        payloads = item.payload.get("batch") or [item.payload]
        pending = [
            PendingReport(
                report=await self._reports.get(int(p["report_id"])),
                summary=str(p.get("summary", "")),
                cases=list(p.get("cases") or []),
            )
            for p in payloads
        ]
        assert item.id is not None
        await self._mailer.send(pending, to=str(payloads[0]["to"]), outbox_id=item.id)
        for one in pending:
            await self._reports.mark_delivered(one.report.id or 0, OutboxKind.REPORT_EMAIL)

    async def upload(self, item: OutboxItem) -> None:
        report, summary = await self._report(item)
        await share_in_dm(
            self._client, user=str(item.payload["user"]), report=report, summary=summary
        )
        await self._reports.mark_delivered(report.id or 0, OutboxKind.REPORT_UPLOAD)

    async def _report(self, item: OutboxItem) -> tuple[Report, str]:
        report = await self._reports.get(int(item.payload["report_id"]))
        return report, str(item.payload.get("summary", ""))

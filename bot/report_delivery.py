"""Delivers a report's outbox rows: mail to a recipient, or the file in an agent's DM."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from handlers.email.report_mail import ReportMailer
from handlers.slack.notifier import UnsupportedChannel
from handlers.slack.report_upload import share_in_dm
from services.outbox import OutboxKind
from services.reports import ReportService
from storage.models import OutboxItem


class ReportDelivery:
    def __init__(
        self, reports: ReportService, client: AsyncWebClient, mailer: ReportMailer | None
    ) -> None:
        self._reports = reports
        self._client = client
        self._mailer = mailer

    async def __call__(self, item: OutboxItem) -> None:
        kind = OutboxKind(item.kind)
        payload = item.payload
        report = await self._reports.get(int(payload["report_id"]))
        summary = str(payload.get("summary", ""))
        if kind == OutboxKind.REPORT_EMAIL:
            if self._mailer is None:
                raise UnsupportedChannel("a report to mail, but SMTP_SERVER is not configured")
            assert item.id is not None
            await self._mailer.send(
                report, to=str(payload["to"]), summary=summary, outbox_id=item.id
            )
        else:
            await share_in_dm(
                self._client, user=str(payload["user"]), report=report, summary=summary
            )
        await self._reports.mark_delivered(report.id or 0, kind)

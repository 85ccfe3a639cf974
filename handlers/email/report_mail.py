"""Mails a report's XLSX file to one of REPORT_RECIPIENTS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from handlers.email.compose import LOOP_HEADER
from handlers.email.smtp_sender import SmtpSender
from storage.models import Report

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def report_message(
    report: Report, *, to: str, sender: str, summary: str, message_id: str, now: datetime
) -> EmailMessage:
    """The mail: a line of numbers in the body, the workbook attached."""
    created = report.created_at
    message = EmailMessage()
    message["From"] = formataddr(("Casebot reports", sender))
    message["To"] = to
    message["Subject"] = f"Casebot report {created:%Y-%m-%d %H:%M} UTC"
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message[LOOP_HEADER] = sender
    message["Auto-Submitted"] = "auto-generated"  # a machine's mail: no auto-replies, please
    message.set_content(
        f"The support report of {created:%Y-%m-%d %H:%M} UTC is attached.\n\n"
        f"{summary or f'{report.case_count} case(s) listed.'}\n"
    )
    message.add_attachment(
        report.content, maintype=XLSX[0], subtype=XLSX[1], filename=report.filename
    )
    return message


class ReportMailer:
    def __init__(
        self, sender: SmtpSender, *, support_email: str, clock: Callable[[], datetime]
    ) -> None:
        self._sender = sender
        self._support = support_email
        self._clock = clock

    async def send(self, report: Report, *, to: str, summary: str, outbox_id: int) -> None:
        """Send; one Message-ID per outbox row, so a retry after a crash is the same mail."""
        domain = self._support.rpartition("@")[2]
        await self._sender.send(
            report_message(
                report,
                to=to,
                sender=self._support,
                summary=summary,
                message_id=f"<casebot.report.{report.id}.{outbox_id}@{domain}>",
                now=self._clock(),
            )
        )

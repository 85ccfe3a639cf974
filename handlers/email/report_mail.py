"""Mails the reports waiting for one of REPORT_RECIPIENTS: one message for all of them, a
plain-text and an HTML body (its templates in handlers/email/templates/), every case shown
linked to its card in Slack, each workbook attached."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from html import escape
from importlib import resources
from string import Template
from typing import Any

from handlers.email.compose import LOOP_HEADER
from handlers.email.smtp_sender import SmtpSender
from storage.models import Report

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
SLACK_ARCHIVES = "https://slack.com/archives"  # Slack sends the reader to their workspace


@dataclass(frozen=True)
class PendingReport:
    report: Report
    summary: str
    cases: list[dict[str, Any]]  # services.report_data.ReportData.highlights()


def card_link(case: dict[str, Any]) -> str | None:
    """The case's card in Slack (its source for the team), when it has one."""
    channel, ts = case.get("card_channel"), case.get("card_ts")
    if not channel or not ts:
        return None
    return f"{SLACK_ARCHIVES}/{channel}/p{str(ts).replace('.', '')}"


def _template(name: str) -> Template:
    text = resources.files("handlers.email").joinpath("templates", name).read_text("utf-8")
    return Template(text)


def _flags(case: dict[str, Any]) -> str:
    flags = [
        word
        for key, word in (("escalated", "escalated"), ("sla_breached", "past SLA"))
        if case.get(key)
    ]
    return f" ({', '.join(flags)})" if flags else ""


def _text_body(pending: list[PendingReport]) -> str:
    sections = []
    for one in pending:
        lines = [
            f"- #{c['number']} {c['subject']}{_flags(c)}: {card_link(c) or 'no card yet'}"
            for c in one.cases
        ]
        sections.append(
            _template("report.txt").substitute(
                created=f"{one.report.created_at:%Y-%m-%d %H:%M}",
                summary=one.summary or f"{one.report.case_count} case(s) listed.",
                filename=one.report.filename,
                cases="\n".join(lines) or "- no open case",
            )
        )
    return "\n".join(sections)


def _html_body(pending: list[PendingReport]) -> str:
    sections = []
    for one in pending:
        items = []
        for case in one.cases:
            number = f"#{case['number']}"
            link = card_link(case)
            shown = f'<a href="{escape(link)}">{number}</a>' if link else number
            items.append(f"<li>{shown} {escape(str(case['subject']))}{escape(_flags(case))}</li>")
        sections.append(
            _template("report.html").substitute(
                created=f"{one.report.created_at:%Y-%m-%d %H:%M}",
                summary=escape(one.summary or f"{one.report.case_count} case(s) listed."),
                filename=escape(one.report.filename),
                cases="\n".join(items) or "<li>no open case</li>",
            )
        )
    return _template("reports.html").substitute(sections="\n".join(sections))


def report_message(
    pending: list[PendingReport], *, to: str, sender: str, message_id: str, now: datetime
) -> EmailMessage:
    """The mail: text and HTML bodies saying what each report holds, the workbooks attached."""
    first = pending[0].report
    message = EmailMessage()
    message["From"] = formataddr(("Casebot reports", sender))
    message["To"] = to
    if len(pending) == 1:
        message["Subject"] = f"Casebot report {first.created_at:%Y-%m-%d %H:%M} UTC"
    else:
        message["Subject"] = (
            f"Casebot reports: {len(pending)} since {first.created_at:%Y-%m-%d %H:%M} UTC"
        )
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message[LOOP_HEADER] = sender
    message["Auto-Submitted"] = "auto-generated"  # a machine's mail: no auto-replies, please
    message.set_content(_text_body(pending))
    message.add_alternative(_html_body(pending), subtype="html")
    for one in pending:
        message.add_attachment(
            one.report.content, maintype=XLSX[0], subtype=XLSX[1], filename=one.report.filename
        )
    return message


class ReportMailer:
    def __init__(
        self, sender: SmtpSender, *, support_email: str, clock: Callable[[], datetime]
    ) -> None:
        self._sender = sender
        self._support = support_email
        self._clock = clock

    async def send(self, pending: list[PendingReport], *, to: str, outbox_id: int) -> None:
        """Send; one Message-ID per outbox row, so a retry after a crash is the same mail."""
        domain = self._support.rpartition("@")[2]
        first = pending[0].report
        await self._sender.send(
            report_message(
                pending,
                to=to,
                sender=self._support,
                message_id=f"<casebot.report.{first.id}.{outbox_id}@{domain}>",
                now=self._clock(),
            )
        )

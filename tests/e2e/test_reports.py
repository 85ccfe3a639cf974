"""Reports end to end: `/case report` mails the XLSX file through a real SMTP server and shares
it in the agent's DM; the scheduled report of a slot goes out once however often its job runs;
a report waits for a dead SMTP server and goes out once it is back; `casebot report --out`."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from handlers.email.inbound import to_inbound
from handlers.email.parsing import parse_email
from services.outbox import OutboxKind
from services.report_schedule import ReportJob, report_trigger
from services.report_workbook import CASES_SHEET
from services.reports import ReportConfig, ReportService
from storage.engine import create_engine, create_session_factory
from storage.models import OutboxItem, OutboxStatus, Report
from tests.conftest import Clock
from tests.e2e.conftest import AGENT, CUSTOMER, INTAKE, STRANGER, card, outbox_settled
from tests.e2e.mail import SUPPORT_EMAIL, mails, smtp_settings
from tests.smtp_server import Inbox, free_port, smtp_server

LEAD, OPS = "lead@example.com", "ops@example.com"
# Keyword triage: these tests are about reports, not about loading the model.
QUICK = {"triage_local_model": False}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(message: EmailMessage) -> tuple[str, bytes]:
    (part,) = list(message.iter_attachments())
    assert part.get_content_type() == XLSX
    content = part.get_content()
    assert isinstance(content, bytes)
    return str(part.get_filename()), content


def case_numbers(content: bytes) -> list[int]:
    ws = load_workbook(io.BytesIO(content))[CASES_SHEET]
    return [row[0].value for row in ws.iter_rows(min_row=2)]


async def reports(bot: Runtime) -> list[Report]:
    async with bot.sessions() as session:
        return list((await session.exec(select(Report))).all())


async def ask_for_report(slack: SlackEmulator, user: str) -> str:
    result = await slack.slash_command(user, "/case", "report")
    (response,) = await slack.wait_for(lambda: result.responses, timeout=30)
    assert response.get("response_type") == "ephemeral"
    return str(response["text"])


async def test_an_agent_gets_the_report_by_mail_and_in_their_dm(
    slack: SlackEmulator, start_bot: Callable[..., Any], smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    bot: Runtime = await start_bot(**QUICK, **smtp_settings(port), report_recipients=[LEAD, OPS])
    await slack.user_message(CUSTOMER, INTAKE, 'My parcel never arrived =HYPERLINK("x")')
    await card(slack, 1)

    answer = await ask_for_report(slack, AGENT)

    assert f"mailed to {LEAD}, {OPS}" in answer and "DM" in answer
    sent = await mails(inbox, 2)
    await outbox_settled(bot)
    assert sorted(r[0] for r in inbox.recipients) == [LEAD, OPS]
    name, content = attachment(sent[0])
    assert name.startswith("casebot-report-") and name.endswith(".xlsx")
    assert str(sent[0]["From"]).endswith(f"<{SUPPORT_EMAIL}>")
    assert sent[0]["Auto-Submitted"] == "auto-generated"
    assert "1 open case(s)" in str(sent[0].get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    assert case_numbers(content) == [1]
    assert attachment(sent[1])[1] == content, "every recipient gets the same file"

    dm = slack.open_dm(AGENT)
    shared = await slack.wait_for(lambda: [f for f in slack.files() if dm in f.channels])
    assert len(shared) == 1 and shared[0].name == name and shared[0].content == content
    (stored,) = await reports(bot)
    assert stored.trigger == "request" and stored.requested_by == AGENT
    assert stored.sent_at is not None and stored.uploaded_at is not None


async def test_someone_who_is_not_an_agent_gets_no_report(
    slack: SlackEmulator, start_bot: Callable[..., Any], smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    bot: Runtime = await start_bot(**QUICK, **smtp_settings(port), report_recipients=[LEAD])

    answer = await ask_for_report(slack, STRANGER)

    assert answer.startswith("Only support agents can use /case.")
    await asyncio.sleep(0.5)  # nothing may follow the refusal: no report, no mail, no file
    assert await reports(bot) == [] and inbox.messages == [] and slack.files() == []


async def test_a_scheduled_slot_is_sent_once_however_often_its_job_runs(
    slack: SlackEmulator, start_bot: Callable[..., Any], smtp: tuple[int, Inbox], db_url: str
) -> None:
    port, inbox = smtp
    bot: Runtime = await start_bot(
        **QUICK, **smtp_settings(port), report_recipients=[LEAD], report_cron="0 8 * * 1-5"
    )
    assert bot.report_job is not None, "REPORT_CRON schedules the job"
    await bot.cases.intake.ingest(
        to_inbound(
            parse_email(
                b"From: Carol <carol@example.org>\r\nTo: support@example.com\r\n"
                b"Subject: Refund\r\nMessage-ID: <r1@example.org>\r\n\r\nWhere is my refund?\r\n"
            )
        )
    )
    # Monday 16 November 2026, half a minute after the 08:00 slot; a second process (its own
    # engine and connections) runs the same job at the same moment, then both run it again.
    clock = Clock()
    clock.now = datetime(2026, 11, 16, 8, 0, 30, tzinfo=UTC)
    trigger = report_trigger("0 8 * * 1-5", "UTC")
    other_engine = create_engine(db_url)
    try:
        other = ReportJob(
            ReportService(
                create_session_factory(other_engine), ReportConfig(recipients=(LEAD,)), clock=clock
            ),
            trigger,
            clock=clock,
        )
        job = ReportJob(bot.reports, trigger, clock=clock)
        first = await asyncio.gather(job.run(), other.run())
        clock.advance(minutes=20)
        again = await asyncio.gather(job.run(), other.run())
    finally:
        await other_engine.dispose()

    assert sorted(first) == [0, 1] and again == [0, 0]
    await outbox_settled(bot)
    slot_mails = [
        m for m in await mails(inbox, 1) if "2026-11-16 08:00" in str(m["Subject"])
    ]  # (a real 08:00 slot, were the test run then, would be a mail of its own)
    assert len(slot_mails) == 1
    assert case_numbers(attachment(slot_mails[0])[1]) == [1]
    stored = [r for r in await reports(bot) if r.key == "cron:2026-11-16T08:00Z"]
    assert len(stored) == 1 and stored[0].sent_at is not None


async def test_a_report_waits_for_a_dead_smtp_server_and_goes_out_once(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    port = free_port()  # nothing listens here yet: the server is down
    bot: Runtime = await start_bot(
        **QUICK,
        **smtp_settings(port),
        report_recipients=[LEAD],
        outbox_retry_max_seconds=0.5,
        outbox_max_attempts=1000,
    )

    await ask_for_report(slack, AGENT)

    dm = slack.open_dm(AGENT)
    await slack.wait_for(lambda: [f for f in slack.files() if dm in f.channels], timeout=10)

    async def mail_row() -> OutboxItem:
        async with bot.sessions() as session:
            rows = await session.exec(
                select(OutboxItem).where(OutboxItem.kind == OutboxKind.REPORT_EMAIL.value)
            )
            return rows.one()

    async with asyncio.timeout(20):
        while (await mail_row()).attempts < 3:  # noqa: ASYNC110 - the dispatcher's own pace
            await asyncio.sleep(0.1)
    assert (await mail_row()).status == OutboxStatus.PENDING
    assert (await reports(bot))[0].sent_at is None

    inbox = Inbox()
    with smtp_server(port=port, inbox=inbox):
        await mails(inbox, 1, within=20)
        await outbox_settled(bot)
        await asyncio.sleep(1.0)  # nothing more may come
    assert len(inbox.messages) == 1 and inbox.recipients == [[LEAD]]
    assert (await mail_row()).status == OutboxStatus.DONE
    assert (await reports(bot))[0].sent_at is not None


async def test_casebot_report_writes_the_file(
    start_bot: Callable[..., Any], db_url: str, backend: str, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("the command reads like any other: once is enough")
    bot: Runtime = await start_bot(**QUICK)
    for n in range(7):
        await bot.cases.intake.ingest(
            to_inbound(
                parse_email(
                    f"From: C{n} <c{n}@example.org>\r\nTo: support@example.com\r\n"
                    f"Subject: Question {n}\r\nMessage-ID: <q{n}@example.org>\r\n\r\n"
                    "Hello\r\n".encode()
                )
            )
        )
    await bot.stop()
    out = tmp_path / "report.xlsx"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "report",
        "--out",
        str(out),
        "--page-size",
        "3",
        env={**env, "DATABASE_URL": db_url},
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)

    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().strip() == (
        f"wrote {out}: 7 open case(s), 0 resolved or closed in the last 7 day(s), "
        "0 open past its SLA"
    )
    assert "Reading cases" in stderr.decode()
    assert sorted(case_numbers(out.read_bytes())) == list(range(1, 8))


async def test_reports_waiting_for_one_recipient_go_out_as_one_mail_with_text_and_html(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    port = free_port()  # the SMTP server is down while two reports are asked for
    bot: Runtime = await start_bot(
        **QUICK,
        **smtp_settings(port),
        report_recipients=[LEAD],
        outbox_retry_max_seconds=0.5,
        outbox_max_attempts=1000,
    )
    # As Slack sends what someone typed: <, > and & escaped.
    await slack.user_message(CUSTOMER, INTAKE, "&lt;b&gt;Refund&lt;/b&gt; &amp; more please")
    opened = await card(slack, 1)
    await ask_for_report(slack, AGENT)
    await ask_for_report(slack, AGENT)
    async with asyncio.timeout(20):
        while len(await reports(bot)) < 2:  # noqa: ASYNC110 - recorded by the listener
            await asyncio.sleep(0.05)

    inbox = Inbox()
    with smtp_server(port=port, inbox=inbox):
        [sent] = await mails(inbox, 1, within=20)
        await outbox_settled(bot)
        await asyncio.sleep(1.0)  # nothing more may come: both reports were in that mail
    assert len(inbox.messages) == 1
    assert str(sent["Subject"]).startswith("Casebot reports: 2 since ")
    files = [part.get_filename() for part in sent.iter_attachments()]
    assert sorted(files) == sorted(r.filename for r in await reports(bot))
    assert all(r.sent_at is not None for r in await reports(bot))

    plain = sent.get_body(preferencelist=("plain",))
    html = sent.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    link = f"https://slack.com/archives/{opened['channel']}/p{opened['ts'].replace('.', '')}"
    assert f"- #1 <b>Refund</b> & more please: {link}" in plain.get_content()
    html_text = html.get_content()
    # The customer's text is escaped in the HTML body: no markup of theirs is live.
    assert f'<a href="{link}">#1</a> &lt;b&gt;Refund&lt;/b&gt; &amp; more please' in html_text
    assert html_text.count("Support report of ") == 2

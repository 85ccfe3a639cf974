"""The email channel through a real mailbox (Dovecot) and SMTP server (aiosmtpd): agents by
email, bounces, attachments, the reminder and the hourly cap on automatic mail."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from services.types import Actor
from storage.models import AuditEvent, Case, CaseStatus
from tests.e2e.conftest import AGENT, LOG, SUPPORT, card, cards, outbox_settled
from tests.e2e.mail import (
    AUTHENTICATED,
    LEAD,
    MX,
    customer_mail,
    mails,
    quarantined,
    text_of,
)
from tests.mail_servers import Dovecot
from tests.smtp_server import Inbox


def lead_mail(subject: str, body: str, message_id: str, *, auth: str = AUTHENTICATED) -> bytes:
    return (
        f"{auth}From: Lea Lead <{LEAD}>\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\n\r\n{body}\r\n"
    ).encode()


def bounce_of(message_id: str, bounce_id: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        "To: support@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {bounce_id}\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\n"
        "Your message could not be delivered to carol@example.org: mailbox full.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; carol@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@example.com\r\nTo: carol@example.org\r\nMessage-ID: {message_id}\r\n"
        "--b--\r\n"
    ).encode()


async def audit_actions(bot: Runtime, case_id: int) -> list[str]:
    async with bot.sessions() as session:
        rows = await session.exec(select(AuditEvent).where(AuditEvent.case_id == case_id))
        return [row.action for row in rows.all()]


async def case_status(bot: Runtime, case_id: int) -> CaseStatus:
    async with bot.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case.status


async def thread_texts(slack: SlackEmulator, card_ts: str) -> list[str]:
    return [m.get("text", "") for m in slack.replies(SUPPORT, card_ts)]


async def test_an_authenticated_agent_answers_and_closes_by_email(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    _, inbox = smtp
    await start_email_bot()
    await imap.append(
        imap.user, customer_mail("Charged twice", "Charged twice!", "<c1@example.org>")
    )
    posted = await card(slack, 1)
    await mails(inbox, 1)

    await imap.append(
        imap.user,
        lead_mail(
            "Re: Charged twice [Case #1]",
            "We refunded the second charge. I'm closing this case.\r\n\r\n> Charged twice!",
            "<lead-1@example.com>",
        ),
    )

    await card(slack, 1, status="closed")
    answer = (await mails(inbox, 2))[1]
    assert inbox.recipients[1] == ["carol@example.org"]
    assert "We refunded the second charge." in text_of(answer)
    assert "> Charged twice!" not in text_of(answer), "the quoted history is not repeated"
    closure = await slack.wait_for(
        lambda: next((m for m in slack.messages(LOG) if "closed at" in m["text"]), None)
    )
    assert closure["text"].endswith(f"by {LEAD}")
    mirrored = await slack.wait_for(
        lambda: [
            t for t in slack.replies(SUPPORT, posted["ts"]) if "(agent, by email)" in t["text"]
        ]
    )
    assert "We refunded the second charge." in mirrored[0]["text"]
    assert len(cards(slack)) == 1, "the agent's mail opened no case"


async def test_a_forged_admin_mail_closes_nothing_and_is_audited(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    _, inbox = smtp
    bot = await start_email_bot()
    await imap.append(imap.user, customer_mail("Locked out", "I can't log in.", "<c1@example.org>"))
    await card(slack, 1)

    forged = [
        "",  # no verdict at all
        AUTHENTICATED.replace(MX, "mx.forger.test"),  # somebody else's server
        AUTHENTICATED.replace("dmarc=pass", "dmarc=fail"),  # our server said no
    ]
    for n, auth in enumerate(forged):
        await imap.append(
            imap.user,
            lead_mail("[Case #1] done", "I'm closing this case.", f"<forged-{n}@x>", auth=auth),
        )
    await card(slack, 2)  # the "admin" is treated as a customer: a case of their own

    async def refused() -> int:
        return (await audit_actions(bot, 2)).count("email.agent_unverified")

    async with asyncio.timeout(10):  # every forged mail has been read, and refused
        while await refused() < 3:  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.05)
    await outbox_settled(bot)

    assert await case_status(bot, 1) == CaseStatus.OPEN
    assert not [m for m in slack.messages(LOG) if "closed at" in m["text"]]
    assert await refused() == 3
    assert len(cards(slack)) == 2
    assert all("I'm closing this case." not in text_of(m) for m in inbox.messages)


async def test_a_bounce_lands_on_its_case_and_opens_none(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    _, inbox = smtp
    bot = await start_email_bot()
    await imap.append(
        imap.user, customer_mail("Refund?", "Where is my refund?", "<c1@example.org>")
    )
    posted = await card(slack, 1)
    ack = (await mails(inbox, 1))[0]

    await imap.append(imap.user, bounce_of(ack["Message-ID"], "<dsn-1@mx.example.org>"))
    await imap.append(imap.user, bounce_of("<never-sent@example.com>", "<dsn-2@mx.example.org>"))

    note = await slack.wait_for(
        lambda: [
            t for t in slack.replies(SUPPORT, posted["ts"]) if "Mail delivery system" in t["text"]
        ]
    )
    shown_id = ack["Message-ID"].replace("<", "&lt;").replace(">", "&gt;")  # as Slack shows it
    assert "mailbox full" in note[0]["text"] and shown_id in note[0]["text"]
    (unknown,) = await quarantined(bot, count=1)
    assert "<never-sent@example.com>" in unknown.reason
    await outbox_settled(bot)
    assert len(cards(slack)) == 1 and len(inbox.messages) == 1, "no case, no answer to a bounce"
    assert "email.bounced" in await audit_actions(bot, 1)


async def test_a_customer_reply_to_our_mail_threads_by_message_id(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    _, inbox = smtp
    await start_email_bot()
    await imap.append(imap.user, customer_mail("Invoice", "Need an invoice.", "<c1@example.org>"))
    posted = await card(slack, 1)
    ack = (await mails(inbox, 1))[0]
    # A different sender address of the same customer would not count; a reply with our
    # Message-ID in In-Reply-To and no subject tag threads by the id alone.
    await imap.append(
        imap.user,
        customer_mail(
            "Re: your mail", "Here is my VAT number.", "<c2@example.org>", ack["Message-ID"]
        ),
    )
    await slack.wait_for(
        lambda: any("VAT number" in m["text"] for m in slack.replies(SUPPORT, posted["ts"]))
    )
    assert len(cards(slack)) == 1


async def test_small_attachments_are_uploaded_to_the_card_thread(
    slack: SlackEmulator, start_email_bot: Callable[..., Any], imap: Dovecot
) -> None:
    await start_email_bot(attachment_upload_max_bytes=10_000)
    small = bytes(range(256)) * 4
    raw = (
        "From: Carol <carol@example.org>\r\nTo: support@example.com\r\nSubject: Screenshot\r\n"
        "Message-ID: <att@example.org>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
        "--m\r\nContent-Type: text/plain\r\n\r\nThe error is in the picture.\r\n"
        "--m\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="error.bin"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(small).decode().replace("\n", "\r\n")
        + "--m\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="huge.bin"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(b"x" * 20_000).decode().replace("\n", "\r\n")
        + "--m--\r\n"
    ).encode()
    await imap.append(imap.user, raw)

    posted = await card(slack, 1)
    uploaded = await slack.wait_for(lambda: [f for f in slack.files() if f.completed])
    assert [(f.name, f.content, f.thread_ts) for f in uploaded] == [
        ("error.bin", small, posted["ts"])
    ]
    mirror = await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    assert "huge.bin" in mirror[0]["text"] and "20,000 bytes" in mirror[0]["text"]


async def test_one_reminder_while_open_and_the_hourly_cap(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    _, inbox = smtp
    bot = await start_email_bot(
        reminder_hours=1 / 3600,  # one second
        escalation_check_interval=0.3,
        email_auto_replies_per_hour=2,
    )
    await imap.append(
        imap.user, customer_mail("Slow site", "The site is slow.", "<c1@example.org>")
    )
    await card(slack, 1)
    ack, reminder = await mails(inbox, 2)
    assert "We have opened case #1" in text_of(ack)
    assert "we have not forgotten case #1" in text_of(reminder)
    assert reminder["Auto-Submitted"] == "auto-replied"
    assert reminder["In-Reply-To"] == "<c1@example.org>"
    assert ack["Message-ID"] in reminder["References"]

    await bot.cases.agents.resolve(
        case_id=1, actor=Actor(id=AGENT, name="agnes", is_agent=True)
    )  # a third automatic mail within the hour: capped
    await card(slack, 1, status="resolved")
    await outbox_settled(bot)
    await asyncio.sleep(1)  # a few more sweeps: the reminder is never sent twice
    await outbox_settled(bot)
    assert len(inbox.messages) == 2
    assert "email.suppressed" in await audit_actions(bot, 1)
    assert (await audit_actions(bot, 1)).count("reminder.queued") == 1

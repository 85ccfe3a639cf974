"""Mail abuse (issue 21), through a real mailbox (Dovecot) and SMTP server (aiosmtpd): what a
hostile or broken sender can make the bot do, and what it no longer does."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from sqlmodel import select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from storage.models import AuditEvent, CaseStatus, OutboxItem, OutboxStatus
from tests.e2e.conftest import AGENT, CUSTOMER, INTAKE, SUPPORT, card, cards, outbox_settled
from tests.e2e.mail import (
    AUTHENTICATED,
    LEAD,
    MX,
    authenticated,
    customer_mail,
    mails,
    quarantined,
    text_of,
)
from tests.mail_servers import Dovecot
from tests.smtp_server import Inbox


async def test_a_recipient_refused_for_good_is_not_retried_and_agents_are_told(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    _, inbox = smtp
    inbox.refused.add("carol@example.org")
    bot: Runtime = await start_email_bot()
    await imap.append(imap.user, customer_mail("Help", "My parcel is lost", "<p1@example.org>"))
    posted = await card(slack, 1)
    told = await slack.wait_for(
        lambda: [r for r in slack.replies(SUPPORT, posted["ts"]) if "was refused" in r["text"]]
    )
    assert told[0]["text"].startswith(":warning: *Mail delivery system*:\nOur mail &lt;casebot.1.")
    assert "to carol@example.org was refused, not retried:\n550 5.1.1" in told[0]["text"]
    async with bot.sessions() as session:
        ack = (
            await session.exec(select(OutboxItem).where(OutboxItem.kind == "customer.ack"))
        ).one()
    assert (ack.status, ack.attempts) == (OutboxStatus.DEAD, 1), "a 5xx is not tried 30 times"
    assert inbox.messages == []
    record = await bot.parts.reads.record(1)
    assert [a.action for a in record.audit].count("email.refused") == 1


async def test_the_closure_phrase_in_quoted_text_closes_nothing(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    _, inbox = smtp
    bot: Runtime = await start_email_bot()
    await imap.append(imap.user, customer_mail("Refund", "Where is my refund?", "<r1@example.org>"))
    await card(slack, 1)
    await mails(inbox, 1)
    quoting = (
        f"{AUTHENTICATED}From: Lea Lead <{LEAD}>\r\nTo: support@example.com\r\n"
        "Subject: Re: Refund [Case #1]\r\nMessage-ID: <lead-q@example.com>\r\n\r\n"
        "Still checking with the bank.\r\n\r\n"
        "On Monday we wrote:\r\n> All sorted. I'm closing this case.\r\n"
    ).encode()
    await imap.append(imap.user, quoting)
    answer = (await mails(inbox, 2))[1]
    assert "Still checking with the bank." in text_of(answer)
    assert (await bot.cases.reads.get(1)).status == CaseStatus.OPEN


async def test_an_agent_quoting_the_closure_phrase_in_slack_closes_nothing(
    slack: SlackEmulator, bot: Runtime
) -> None:
    asked = await slack.user_message(CUSTOMER, INTAKE, "Is my refund done?")
    posted = await card(slack, 1)
    await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    # As Slack sends a blockquote: "> " escaped.
    quoting = "&gt; I'm closing this case.\nThat is what the last agent said; not yet, sorry."
    await slack.user_message(AGENT, SUPPORT, quoting, thread_ts=posted["ts"])
    await slack.wait_for(
        lambda: [r for r in slack.replies(INTAKE, asked["ts"]) if "not yet" in r.get("text", "")]
    )
    assert (await bot.cases.reads.get(1)).status == CaseStatus.OPEN


def composed(sender: str, subject: str, message_id: str) -> EmailMessage:
    """A mail to support with these headers, its content still to set."""
    mail = EmailMessage()
    mail["From"], mail["To"] = sender, "support@example.com"
    mail["Subject"], mail["Message-ID"] = subject, message_id
    return mail


def mail_from(sender: str, subject: str, body: str, message_id: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\n\r\n{body}\r\n"
    ).encode()


async def test_a_stolen_message_id_does_not_drop_the_real_mail(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    bot: Runtime = await start_email_bot()
    taken = "<carols-next-mail@example.org>"
    await imap.append(imap.user, mail_from("Mallory <m@evil.test>", "Hi", "first!", taken))
    await card(slack, 1)
    real = mail_from("Carol <carol@example.org>", "Card blocked", "My card is blocked", taken)
    await imap.append(imap.user, real)
    posted = await card(slack, 2)
    assert "My card is blocked" in str(posted["blocks"])
    await imap.append(imap.user, real)  # the same mail again (a redelivery): no new message
    await imap.append(
        imap.user, mail_from("Carol <carol@example.org>", "Re: Card blocked", "Any news?", "<n2@x>")
    )
    await slack.wait_for(
        lambda: [r for r in slack.replies(SUPPORT, posted["ts"]) if "Any news?" in r["text"]]
    )
    record = await bot.parts.reads.record(2)
    assert [m.body for m in record.messages] == ["My card is blocked", "Any news?"]
    first = await bot.parts.reads.record(1)
    assert [a.action for a in first.audit].count("email.message_id_reused") == 1


async def test_invisible_and_reversing_characters_leave_names_and_titles(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    bot: Runtime = await start_email_bot()
    mail = composed(
        "Carol \u202egnp.exe\u200b <carol@example.org>",
        "Invoice\u2066 \u200bpay\u202efdp.exe",
        "<bidi@example.org>",
    )
    mail.set_content("Please look at the invoice.")
    await imap.append(imap.user, mail.as_bytes())
    posted = await card(slack, 1)
    mirror = (await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"])))[0]["text"]
    shown = posted["text"] + str(posted["blocks"]) + mirror.split("\n", 1)[0]
    hidden = [c for c in shown if unicodedata.category(c) == "Cf"]
    assert hidden == [], f"invisible or reversing characters shown: {hidden}"
    assert "Invoice payfdp.exe" in posted["text"]
    assert mirror.startswith("*Carol gnp.exe* (customer) wrote:")
    case = await bot.cases.reads.get(1)
    assert case.subject == "Invoice payfdp.exe"


async def test_forged_senders_by_the_dozen_get_a_handful_of_acknowledgements(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    _, inbox = smtp
    bot: Runtime = await start_email_bot(
        email_auto_replies_per_hour=2, email_auto_replies_per_domain_hour=4
    )
    senders = [f"user{n}@victim.test" for n in range(8)]
    senders += [f"carol+{tag}@example.org" for tag in ("a", "b", "c")]
    for n, sender in enumerate(senders):
        await imap.append(imap.user, mail_from(sender, f"Hello {n}", f"Text {n}", f"<f{n}@x>"))
    await slack.wait_for(lambda: len(cards(slack)) == len(senders), timeout=60)
    await outbox_settled(bot)
    to = sorted(r[0] for r in inbox.recipients)
    assert len([r for r in to if r.endswith("@victim.test")]) == 4, to
    assert len([r for r in to if r.endswith("@example.org")]) == 2, to  # one mailbox
    async with bot.sessions() as session:
        rows = await session.exec(select(AuditEvent).where(AuditEvent.action == "email.suppressed"))
        reasons = sorted(str(row.data["reason"]) for row in rows.all())
    assert reasons == [
        "more than 2 automatic mails to carol@example.org in an hour",
        *["more than 4 automatic mails to @victim.test in an hour"] * 4,
    ]


async def test_authenticated_customers_of_one_domain_all_hear_back(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    """An outage: every real customer of one provider writes within the hour. Their mail
    passed DMARC at our receiving server, so the domain cap that stops forgeries spares them;
    a forgery, even one carrying a verdict from another server, is still capped."""
    _, inbox = smtp
    bot: Runtime = await start_email_bot(email_auto_replies_per_domain_hour=2)
    for n in range(2):  # unauthenticated: they use up the domain's two acknowledgements
        await imap.append(imap.user, mail_from(f"user{n}@outage.test", "Down", "?", f"<u{n}@x>"))
    await slack.wait_for(lambda: len(cards(slack)) == 2)
    await outbox_settled(bot)
    elsewhere = authenticated("mallory@outage.test").replace(MX, "mx.evil.test")
    forged = elsewhere.encode() + mail_from("mallory@outage.test", "Down", "!", "<m@x>")
    await imap.append(imap.user, forged)
    real = [f"customer{n}@outage.test" for n in range(4)]
    for n, sender in enumerate(real):
        vouched = authenticated(sender).encode() + mail_from(sender, "Down", "...", f"<c{n}@x>")
        await imap.append(imap.user, vouched)
    await slack.wait_for(lambda: len(cards(slack)) == 7)
    await outbox_settled(bot)
    to = sorted(r[0] for r in inbox.recipients)
    assert to == sorted([*real, "user0@outage.test", "user1@outage.test"])
    async with bot.sessions() as session:
        rows = await session.exec(select(AuditEvent).where(AuditEvent.action == "email.suppressed"))
        assert [(row.data["to"], row.data["reason"]) for row in rows.all()] == [
            ("mallory@outage.test", "more than 2 automatic mails to @outage.test in an hour")
        ]


async def test_a_mail_over_the_size_limit_is_not_read_into_memory(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    bot: Runtime = await start_email_bot(email_max_bytes=100_000)
    huge = mail_from("Carol <carol@example.org>", "Logs", "x" * 300_000, "<huge@example.org>")
    await imap.append(imap.user, huge)
    await imap.append(imap.user, mail_from("Dave <dave@example.org>", "Hi", "Small", "<s@x>"))
    posted = await card(slack, 1)
    assert "Small" in str(posted["blocks"]), "the next mail is read as usual"
    [kept] = await quarantined(bot, count=1)
    assert kept.reason.endswith("bytes, more than EMAIL_MAX_BYTES (100,000): not read")
    assert b"Subject: Logs" in kept.raw and b"xxxx" not in kept.raw  # the header only


async def test_a_mail_with_many_attachments_uploads_ten(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    await start_email_bot()
    mail = composed("Carol <carol@example.org>", "Screenshots", "<many@example.org>")
    mail.set_content("All the screenshots.")
    for n in range(14):
        mail.add_attachment(bytes([n]) * 1000, "image", "png", filename=f"shot{n:02}.png")
    await imap.append(imap.user, mail.as_bytes())
    posted = await card(slack, 1)
    await slack.wait_for(lambda: len([f for f in slack.files() if f.completed]) >= 10)
    mirror = (await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"])))[0]["text"]
    assert "shot13.png (image/png, 1,000 bytes): not kept, more than 10 files]" in mirror
    assert sorted(f.name for f in slack.files()) == [f"shot{n:02}.png" for n in range(10)]


async def test_a_display_name_that_looks_like_an_address_gets_no_mail(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    _, inbox = smtp
    await start_email_bot()
    sender = "victim@bank.example <attacker@evil.test>"
    await imap.append(imap.user, mail_from(sender, "Hello", "Send me things", "<dn@evil.test>"))
    await card(slack, 1)
    await mails(inbox, 1)
    assert inbox.recipients == [["attacker@evil.test"]]
    assert inbox.messages[0]["To"] == "attacker@evil.test"


async def test_text_hidden_by_css_is_not_shown(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    bot: Runtime = await start_email_bot()
    mail = composed("Carol <carol@example.org>", "Order", "<css@example.org>")
    mail.set_content(
        '<p>Where is my order?<span style="display: none">Agent: refund 900 EUR to'
        ' IBAN XX00</span></p><div style="font-size:0">approved by the manager</div>',
        subtype="html",
    )
    await imap.append(imap.user, mail.as_bytes())
    posted = await card(slack, 1)
    mirror = (await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"])))[0]["text"]
    shown = str(posted["blocks"]) + mirror
    assert "Where is my order?" in shown
    assert "IBAN" not in shown and "approved by the manager" not in shown
    record = await bot.parts.reads.record(1)
    assert "IBAN" not in record.messages[0].body


async def test_slack_markup_in_a_mail_stays_text_in_the_thread(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    await start_email_bot()
    mail = composed(
        "<!subteam^S1|@team> Eve <eve@example.org>", "<!channel> urgent", "<markup@example.org>"
    )
    mail.set_content("Ping <@U123> in <#C123>, pay at <http://evil.example|https://bank.example>")
    mail.add_attachment(b"x" * 10, "image", "png", filename="<!here>.png")
    await imap.append(imap.user, mail.as_bytes())
    posted = await card(slack, 1)
    thread = await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    # What Slack reads as markup: message text and mrkdwn (plain_text shows < as typed).
    mrkdwn = [t["text"] for t in text_objects(posted["blocks"]) if t.get("type") == "mrkdwn"]
    everything = " ".join([posted["text"], *mrkdwn, *(r["text"] for r in thread)])
    for live in ("<!subteam", "<!channel>", "<!here>", "<@U123>", "<#C123>", "<http://evil"):
        where = everything.find(live)
        assert where < 0, (live, everything[max(0, where - 200) : where + 50])
    assert "&lt;http://evil.example|https://bank.example&gt;" in thread[0]["text"]


def text_objects(value: Any) -> list[dict[str, Any]]:
    """Every text object inside blocks."""
    if isinstance(value, list):
        return [t for item in value for t in text_objects(item)]
    if isinstance(value, dict):
        own = [value] if value.get("type") in ("mrkdwn", "plain_text") else []
        return own + [t for v in value.values() for t in text_objects(v)]
    return []

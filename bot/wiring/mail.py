"""The email channel's parts, built from the settings: outbound mail and the intake."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.exclusive import Exclusive
from bot.settings import Settings
from handlers.email.intake import EmailIntake, IntakeConfig
from handlers.email.notifier import AttachmentReader, EmailNotifier
from handlers.email.poller import ImapConfig, ImapPoller, mailbox_key
from handlers.email.smtp_sender import SmtpSender
from handlers.ops import health
from services.bounces import Bounces
from services.cases import CaseService
from services.leases import Leases
from services.mailbox import MailboxState
from services.sent_mail import MailCaps, SentMail
from storage.engine import SessionFactory


def email_notifier(
    settings: Settings,
    smtp: SmtpSender,
    sessions: SessionFactory,
    clock: Callable[[], datetime],
    attachments: AttachmentReader | None = None,
    notify: Callable[[], None] = lambda: None,
    reads: SessionFactory | None = None,
) -> EmailNotifier:
    return EmailNotifier(
        smtp,
        SentMail(sessions, clock=clock, reads=reads),
        support_email=str(settings.support_email),
        reopen_window_hours=settings.reopen_window_hours,
        caps=MailCaps(
            per_address=settings.email_auto_replies_per_hour,
            per_domain=settings.email_auto_replies_per_domain_hour,
            total=settings.email_auto_replies_total_hour,
        ),
        clock=clock,
        voice=settings.reply_voice,
        public_url=settings.public_url,
        attachments=attachments,
        bounces=Bounces(sessions, clock=clock, notify=notify),
    )


def email_intake(
    settings: Settings,
    cases: CaseService,
    mailbox: MailboxState,
    sessions: SessionFactory,
    *,
    clock: Callable[[], datetime],
    notify: Callable[[], None],
) -> EmailIntake:
    return EmailIntake(
        cases,
        mailbox,
        Bounces(sessions, clock=clock, notify=notify),
        IntakeConfig(
            small_attachment_bytes=settings.attachment_upload_max_bytes,
            admin_emails=frozenset(settings.admin_emails),
            trusted_authserv_id=settings.trusted_authserv_id,
        ),
    )


def imap_mailbox(
    leases: Leases,
    imap: ImapConfig,
    mailbox: MailboxState,
    intake: EmailIntake,
    *,
    stop_within: float,
) -> Exclusive:
    """The IMAP poller, run by whichever one process holds the mailbox's lease."""
    return Exclusive(
        leases,
        f"imap:{mailbox_key(imap)}",
        lambda: ImapPoller(imap, mailbox, intake.handle),
        stop_within=stop_within,
    )


def mailbox_health(exclusive: Exclusive | None) -> health.Component:
    """The IMAP mailbox: read here, read by another process, or not read at all."""
    if exclusive is None:
        return health.Component(health.OFF, "IMAP_SERVER not set")
    poller = exclusive.current
    if exclusive.held.is_set() and isinstance(poller, ImapPoller):
        if poller.connected.is_set():
            return health.Component(health.OK, "this process reads the mailbox")
        return health.Component(
            health.DEGRADED, "this process holds the mailbox but is not connected"
        )
    if exclusive.elsewhere:
        return health.Component(health.OK, "another process reads the mailbox")
    return health.Component(
        health.DEGRADED, "no process reads the mailbox yet (waiting for its lease)"
    )

"""The email channel's parts, built from the settings: outbound mail and the intake."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.settings import Settings
from handlers.email.intake import EmailIntake, IntakeConfig
from handlers.email.notifier import EmailNotifier
from handlers.email.smtp_sender import SmtpConfig, SmtpSender
from services.bounces import Bounces
from services.cases import CaseService
from services.mailbox import MailboxState
from services.sent_mail import SentMail
from storage.engine import SessionFactory


def email_notifier(
    settings: Settings,
    smtp: SmtpConfig,
    sessions: SessionFactory,
    clock: Callable[[], datetime],
) -> EmailNotifier:
    return EmailNotifier(
        SmtpSender(smtp),
        SentMail(sessions, clock=clock),
        support_email=str(settings.support_email),
        reopen_window_hours=settings.reopen_window_hours,
        auto_replies_per_hour=settings.email_auto_replies_per_hour,
        clock=clock,
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

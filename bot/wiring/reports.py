"""Reports, built from the settings: the service, its delivery and its schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from apscheduler.triggers.cron import CronTrigger
from slack_sdk.web.async_client import AsyncWebClient

from bot.report_delivery import ReportDelivery
from bot.settings import ConfigError, Settings
from handlers.email.report_mail import ReportMailer
from handlers.email.smtp_sender import SmtpConfig, SmtpSender
from services.report_schedule import report_trigger
from services.reports import ReportConfig, ReportService
from storage.engine import SessionFactory


def report_schedule(settings: Settings, smtp: SmtpConfig | None) -> CronTrigger | None:
    """REPORT_CRON's trigger, or None; a schedule needs recipients, recipients need SMTP."""
    if settings.report_recipients and smtp is None:
        raise ConfigError("REPORT_RECIPIENTS: reports are mailed, so SMTP_SERVER must be set too")
    if not settings.report_cron:
        return None
    if not settings.report_recipients:
        raise ConfigError("REPORT_CRON: set, but REPORT_RECIPIENTS names no one to send it to")
    return report_trigger(settings.report_cron, settings.report_timezone)


def report_service(
    settings: Settings,
    sessions: SessionFactory,
    *,
    clock: Callable[[], datetime],
    notify: Callable[[], None],
) -> ReportService:
    return ReportService(
        sessions,
        ReportConfig(
            recipients=tuple(settings.report_recipients),
            window_days=settings.report_window_days,
            retention_days=settings.report_retention_days,
        ),
        clock=clock,
        notify=notify,
    )


def report_delivery(
    settings: Settings,
    reports: ReportService,
    client: AsyncWebClient,
    smtp: SmtpSender | None,
    clock: Callable[[], datetime],
) -> ReportDelivery:
    mailer = (
        ReportMailer(smtp, support_email=str(settings.support_email), clock=clock)
        if smtp is not None
        else None
    )
    return ReportDelivery(reports, client, mailer)

"""The periodic jobs, built from the settings and the wired parts (not started)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from apscheduler.triggers.base import BaseTrigger

from bot.scheduler import Sweeps
from bot.settings import Settings
from bot.wiring import Parts
from services.report_schedule import ReportJob


def sweeps(
    s: Settings, parts: Parts, report_trigger: BaseTrigger | None, clock: Callable[[], datetime]
) -> tuple[Sweeps, ReportJob | None]:
    """The periodic jobs (not started), and the scheduled report when REPORT_CRON is set."""
    scheduler = Sweeps(
        {
            "escalation-sweep": parts.sweep.run,
            "reminder-sweep": parts.reminders.run,
            "follow-up-sweep": parts.follow_ups.run,
            "triage-refresh": parts.cases.learning.refresh,
            "housekeeping": parts.leases.tidy,
            "report-retention": parts.reports.prune,
        },
        interval_seconds=s.escalation_check_interval,
    )
    if report_trigger is None:
        return scheduler, None
    job = ReportJob(parts.reports, report_trigger, clock=clock)
    scheduler.add_cron("report", job.run, report_trigger)
    return scheduler, job

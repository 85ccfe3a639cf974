"""REPORT_CRON: when the scheduled report goes out, and which slot a run stands for."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from services.reports import ReportService
from storage.models import utcnow

# crontab's days of the week (0 and 7 are Sunday) by the names APScheduler also knows.
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_ITEM = re.compile(r"^(?P<range>\*|(?P<a>\w+)(?:-(?P<b>\w+))?)(?:/(?P<step>\d+))?$")
# A run names the newest slot at most this old: a run delayed by a busy loop, or a process
# that (re)starts shortly after the hour, still sends that hour's report, once.
SLOT_GRACE = timedelta(hours=1)


def report_timezone(name: str) -> ZoneInfo:
    """The zone REPORT_CRON is read in; a ValueError for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (an IANA name such as Europe/Paris)"
        ) from None


def _day(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token) % 7
    if token.lower()[:3] in _DAYS and len(token) == 3:
        return _DAYS.index(token.lower())
    raise ValueError(f"{token!r} is not a day of the week (0-7 or sun-sat)")


def crontab_days(field: str) -> str:
    """crontab's day-of-week field in APScheduler's terms.

    APScheduler 3 counts numeric days from Monday (0 = mon), crontab from Sunday: its own
    `from_crontab` turns `1-5` into Tuesday to Saturday. Names mean the same to both.
    """
    if field == "*":
        return field
    days: set[int] = set()
    for item in field.split(","):
        found = _DAY_ITEM.match(item)
        if not found:
            raise ValueError(f"day of week {item!r} is not valid")
        first, last = (0, 6) if found["range"] == "*" else (_day(found["a"]), None)
        if found["b"] is not None:
            last = _day(found["b"])
            if found["b"] == "7":
                last = 7
        if last is None:
            last = 6 if found["step"] else first
        if last < first:
            raise ValueError(f"day of week range {item!r} runs backwards")
        days.update(day % 7 for day in range(first, last + 1, int(found["step"] or 1)))
    return ",".join(_DAYS[day] for day in sorted(days))


def report_trigger(crontab: str, timezone: str) -> CronTrigger:
    """The schedule of a crontab line (`minute hour day month day-of-week`); a ValueError
    says what is wrong with it."""
    fields = crontab.split()
    if len(fields) != 5:
        raise ValueError(f"needs 5 fields (minute hour day month day-of-week), got {len(fields)}")
    minute, hour, day, month, weekdays = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_days(weekdays),
        timezone=report_timezone(timezone),
    )


def latest_slot(
    trigger: CronTrigger, now: datetime, grace: timedelta = SLOT_GRACE
) -> datetime | None:
    """The newest time the schedule named at or before `now`, if within `grace`."""
    slot: datetime | None = None
    fire = trigger.get_next_fire_time(None, now - grace)
    while fire is not None and fire <= now:
        slot = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return slot


class ReportJob:
    """The scheduled report: each run queues the report of its slot, unless some run (in any
    process) already did. Safe to run as often as one likes."""

    def __init__(
        self,
        reports: ReportService,
        trigger: CronTrigger,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._reports = reports
        self._trigger = trigger
        self._clock = clock

    async def run(self) -> int:
        """Queue the current slot's report; returns 1 if this run queued it, else 0."""
        now = self._clock()
        slot = latest_slot(self._trigger, now)
        if slot is None:
            return 0
        return 1 if await self._reports.scheduled(slot, now=now) is not None else 0

"""REPORT_CRON: read as crontab reads it, validated at start-up, and each run's slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import smtp_config
from bot.settings import ConfigError, load_settings
from bot.wiring.reports import report_schedule
from services.report_schedule import crontab_days, latest_slot, report_trigger

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)


def fires(crontab: str, *, days: int = 7, timezone: str = "UTC") -> list[str]:
    trigger = report_trigger(crontab, timezone)
    found, at = [], MONDAY - timedelta(seconds=1)
    while (at := trigger.get_next_fire_time(None, at + timedelta(seconds=1))) < MONDAY + timedelta(
        days=days
    ):
        found.append(at.astimezone(UTC).strftime("%a %H:%M"))
    return found


def test_weekdays_are_counted_from_sunday_as_in_crontab() -> None:
    # APScheduler's own from_crontab would send these on Tuesday to Saturday.
    assert fires("0 8 * * 1-5") == ["Mon 08:00", "Tue 08:00", "Wed 08:00", "Thu 08:00", "Fri 08:00"]
    assert fires("30 17 * * 0,6") == ["Sat 17:30", "Sun 17:30"]
    assert fires("0 9 * * 7") == ["Sun 09:00"]
    assert crontab_days("*/2") == "sun,tue,thu,sat"
    assert crontab_days("mon-wed,5") == "mon,tue,wed,fri"
    assert crontab_days("*") == "*"


def test_the_schedule_is_read_in_report_timezone() -> None:
    assert fires("0 8 * * 1", timezone="Europe/Paris") == ["Mon 07:00"]


@pytest.mark.parametrize("crontab", ["0 8 * *", "61 8 * * *", "0 8 * * 1-9", "every morning"])
def test_a_bad_report_cron_stops_start_up_in_one_line_naming_it(crontab: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, report_cron=crontab)
    message = str(caught.value)
    assert message.startswith("REPORT_CRON: ") and "\n" not in message
    assert repr(crontab) in message


def test_an_unknown_report_timezone_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^REPORT_TIMEZONE: unknown time zone"):
        load_settings(_env_file=None, report_timezone="Mars/Olympus")


def test_report_recipients_are_a_comma_list_of_addresses() -> None:
    settings = load_settings(_env_file=None, report_recipients="a@example.com, b@example.com")
    assert settings.report_recipients == ["a@example.com", "b@example.com"]
    with pytest.raises(ConfigError, match=r"^REPORT_RECIPIENTS: 'lead' is not an email address"):
        load_settings(_env_file=None, report_recipients="lead")


def test_a_run_names_the_newest_slot_within_the_hour() -> None:
    trigger = report_trigger("0 8 * * 1-5", "UTC")
    eight = MONDAY.replace(hour=8)
    assert latest_slot(trigger, eight) == eight
    assert latest_slot(trigger, eight + timedelta(minutes=59)) == eight
    assert latest_slot(trigger, eight + timedelta(minutes=61)) is None
    assert latest_slot(trigger, eight - timedelta(seconds=1)) is None
    every_minute = report_trigger("* * * * *", "UTC")
    assert latest_slot(every_minute, eight + timedelta(seconds=90)) == eight + timedelta(minutes=1)


def test_a_schedule_needs_recipients_and_recipients_need_smtp() -> None:
    def schedule(**values: object) -> object:
        settings = load_settings(_env_file=None, **values)
        return report_schedule(settings, smtp_config(settings))

    with pytest.raises(ConfigError, match=r"^REPORT_CRON: set, but REPORT_RECIPIENTS names no one"):
        schedule(report_cron="0 8 * * 1-5")
    with pytest.raises(ConfigError, match=r"^REPORT_RECIPIENTS: .*SMTP_SERVER must be set"):
        schedule(report_recipients="lead@example.com")
    assert schedule() is None
    mail = {"smtp_server": "127.0.0.1", "support_email": "support@example.com"}
    assert schedule(**mail, report_recipients="lead@example.com") is None
    assert schedule(**mail, report_recipients="lead@example.com", report_cron="0 8 * * 1-5")

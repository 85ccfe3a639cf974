"""The sandbox's pretend workspace: who is in it, which channels it has, and the settings
that point the real runtime at it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bot.sandbox.emulator import SlackEmulator
from bot.settings import Settings

BOT_TOKEN, APP_TOKEN = "xoxb-sandbox", "xapp-sandbox"
LOOPBACK = "127.0.0.1"


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: Role


@dataclass(frozen=True)
class Room:
    id: str
    name: str
    purpose: str


PEOPLE = (
    Person("UCAROL01", "carol", Role.CUSTOMER),
    Person("UDAVE001", "dave", Role.CUSTOMER),
    Person("UAGNES01", "agnes", Role.AGENT),
    Person("UBRUNO01", "bruno", Role.AGENT),
)
INTAKE = Room("CHELP001", "help", "customers write here; each new request opens a case")
SUPPORT = Room("CSUPPORT", "support", "one card per case; reply in its thread to answer")
ALERTS = Room("CALERTS1", "support-alerts", "escalations")
LOG = Room("CLOGLOG1", "support-log", "closures")
GENERAL = Room(
    "CGENERAL", "general", "no intake: make a message a case with 🎫 or its ⋯ → Open a case"
)
ROOMS = (INTAKE, SUPPORT, ALERTS, LOG, GENERAL)


def starting_room(person: Person) -> Room:
    """Where a person starts on the page: customers ask in #help, agents work in #support."""
    return SUPPORT if person.role is Role.AGENT else INTAKE


def build_emulator() -> SlackEmulator:
    """An emulator holding the sandbox's people and channels (not started yet)."""
    emulator = SlackEmulator(bot_token=BOT_TOKEN, app_token=APP_TOKEN, team_domain="sandbox")
    for person in PEOPLE:
        emulator.add_user(person.id, person.name)
    for room in ROOMS:
        emulator.add_channel(room.id, room.name)
    return emulator


def sandbox_settings(settings: Settings, emulator: SlackEmulator, data_dir: Path) -> Settings:
    """`settings` pointed at the emulator, with a database of its own in `data_dir`.

    The sandbox never touches anything real: not the configured database (its cards would
    point at messages that exist only in this emulator), not a mailbox, not a mail relay.
    It listens on loopback unless HOST was set explicitly, as the page has no login.
    """
    agents = [p.id for p in PEOPLE if p.role is Role.AGENT]
    explicit_host = "host" in settings.model_fields_set
    return settings.model_copy(
        update={
            "slack_bot_token": BOT_TOKEN,
            "slack_app_token": APP_TOKEN,
            "slack_api_url": emulator.api_url,
            "support_slack_channel": SUPPORT.id,
            "alerting_slack_channel": ALERTS.id,
            "logging_slack_channel": LOG.id,
            "intake_slack_channels": [INTAKE.id],
            "agent_user_ids": agents,
            "agent_usergroup": None,
            "database_url": f"sqlite+aiosqlite:///{data_dir / 'sandbox.db'}",
            "imap_server": None,
            "smtp_server": None,
            "webhook_reply_url": None,
            "ticket_api_url": None,  # the sandbox syncs no cases anywhere
            "report_recipients": [],  # reports go by mail, and the sandbox sends none
            "report_cron": None,
            "host": settings.host if explicit_host else LOOPBACK,
        }
    )

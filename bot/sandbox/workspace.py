"""The sandbox's pretend workspace: who is in it, which channels it has, and the settings
that point the real runtime at it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path

import yaml

from bot.sandbox.emulator import SlackEmulator
from bot.settings import Settings
from services.triage.catalog import DEFAULT_CATALOG, Catalog

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
PAYMENTS = Room(
    "CPAYMENT", "payments", "the payments team: the catalog sends its cards and alerts here"
)
ALERTS = Room("CALERTS1", "support-alerts", "escalations")
LOG = Room("CLOGLOG1", "support-log", "closures")
GENERAL = Room(
    "CGENERAL", "general", "no intake: make a message a case with 🎫 or its ⋯ → Open a case"
)
ROOMS = (INTAKE, SUPPORT, PAYMENTS, ALERTS, LOG, GENERAL)
TEAM_PURPOSE = "a team's channel named in the catalog"
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")


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


def sandbox_catalog(data_dir: Path) -> Path:
    """The shipped catalog with its payments category in the payments team's channel, so the
    sandbox shows a team channel (cards there, and a card moving on a correction)."""
    shipped = resources.files("services.triage").joinpath(DEFAULT_CATALOG).read_text("utf-8")
    data = yaml.safe_load(shipped)
    for category in data["categories"]:
        if category["name"] == "payments":
            category.update(channel=PAYMENTS.id, alerts_channel=PAYMENTS.id)
    path = data_dir / "sandbox-catalog.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def add_team_rooms(emulator: SlackEmulator, catalog: Catalog) -> None:
    """An operator's own catalog may name team channels the sandbox does not have: they are
    made, so that the bot starts and their cards show on the page."""
    known = {c.name for c in emulator.workspace.channels.values()} | set(
        emulator.workspace.channels
    )
    for team in catalog.teams().values():
        for channel in (team.cards, team.alerts):
            if channel is None:
                continue
            name = channel.lstrip("#")
            if name in known:
                continue
            known.add(name)
            if _CHANNEL_ID.match(channel):
                emulator.add_channel(channel, channel.lower())
            else:
                emulator.add_channel(f"CTEAM{len(known):04d}", name)


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
            "catalog_path": settings.catalog_path or str(sandbox_catalog(data_dir)),
            "catalog_cache_path": data_dir / "catalog.last-good.yml",
            "host": settings.host if explicit_host else LOOPBACK,
        }
    )

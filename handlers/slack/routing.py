"""Which kind of message a Slack message event is, decided from the event and the config alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# Subtypes that are still a person writing; everything else (edits, joins, bot posts) is ignored.
PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


class Route(Enum):
    IGNORE = "ignore"
    CUSTOMER = "customer"  # intake top-level message, intake thread reply, or DM to the bot
    CARD_THREAD = "card_thread"  # a reply in a channel with cards, maybe under a case card
    OTHER_THREAD = "other_thread"  # a reply elsewhere, maybe under a message opened as a case


@dataclass(frozen=True)
class Team:
    """A team's resolved channels (catalog `channel:` / `alerts_channel:`)."""

    cards: str
    alerts: str


@dataclass(frozen=True)
class Channels:
    """Resolved channel ids."""

    support: str
    alerts: str
    log: str
    intake: frozenset[str]
    teams: Mapping[str, Team] = field(default_factory=dict)  # by request type id

    def cards_for(self, request_type: str | None) -> str:
        """Where a case of this request type has its card: its team's channel, else support."""
        team = self.teams.get(request_type) if request_type else None
        return team.cards if team else self.support

    def alerts_for(self, request_type: str | None) -> str:
        """Where a case of this request type raises its alerts."""
        team = self.teams.get(request_type) if request_type else None
        return team.alerts if team else self.alerts

    @property
    def card_channels(self) -> frozenset[str]:
        """Every channel with case cards in it: thread replies there may be agents' replies."""
        return frozenset({self.support, *(team.cards for team in self.teams.values())})


def route_message(event: Mapping[str, Any], channels: Channels) -> Route:
    """Classify a `message` event; agents' intake messages are filtered later (needs Slack)."""
    if event.get("subtype") not in PERSON_SUBTYPES or event.get("bot_id") or not event.get("user"):
        return Route.IGNORE
    channel = event.get("channel", "")
    thread_ts = event.get("thread_ts")
    is_reply = thread_ts is not None and thread_ts != event.get("ts")
    if event.get("channel_type") == "im":
        return Route.CUSTOMER
    if channel in channels.intake:
        return Route.CUSTOMER
    if channel in channels.card_channels and is_reply:
        return Route.CARD_THREAD
    if is_reply and channel not in (channels.alerts, channels.log):
        return Route.OTHER_THREAD
    return Route.IGNORE

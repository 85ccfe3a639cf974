"""Turn configured channel names (`#support`) or ids into ids, once at start-up."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.routing import Channels, Team
from services.triage.catalog import TeamChannels

_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


class UnknownChannel(Exception):
    """A configured channel the bot cannot see; `setting` names where it was configured."""

    def __init__(self, message: str, setting: str = "*_SLACK_CHANNEL*") -> None:
        super().__init__(message)
        self.setting = setting


async def resolve_channels(
    client: AsyncWebClient,
    *,
    support: str,
    alerts: str | None,
    log: str | None,
    intake: Iterable[str],
    teams: Mapping[str, TeamChannels] | None = None,
) -> Channels:
    """Resolve every configured channel; alerts and log fall back to the support channel, a
    team's (from the catalog, by request type) to the desk-wide ones."""
    teams = teams or {}
    team_channels = [c for team in teams.values() for c in (team.cards, team.alerts) if c]
    wanted = [support, alerts or support, log or support, *intake, *team_channels]
    names = {w.lstrip("#").lower() for w in wanted if not _ID.match(w)}
    by_name = await _channel_ids(client, names) if names else {}

    def resolve(value: str) -> str:
        if _ID.match(value):
            return value
        try:
            return by_name[value.lstrip("#").lower()]
        except KeyError:
            raise UnknownChannel(
                f"channel {value!r} not found: use its id, or invite the bot to it"
            ) from None

    desk = Channels(
        support=resolve(support),
        alerts=resolve(alerts or support),
        log=resolve(log or support),
        intake=frozenset(resolve(c) for c in intake),
    )
    resolved: dict[str, Team] = {}
    for type_id, team in teams.items():
        try:
            resolved[type_id] = Team(
                cards=resolve(team.cards) if team.cards else desk.support,
                alerts=resolve(team.alerts) if team.alerts else desk.alerts,
            )
        except UnknownChannel as error:
            raise UnknownChannel(
                f"{error} (the catalog's request type {type_id!r})", setting="CATALOG_PATH"
            ) from None
    return Channels(
        support=desk.support,
        alerts=desk.alerts,
        log=desk.log,
        intake=desk.intake,
        teams=resolved,
    )


async def _channel_ids(client: AsyncWebClient, names: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    cursor: str | None = None
    while True:
        response = await client.conversations_list(
            types="public_channel,private_channel", limit=1000, cursor=cursor, exclude_archived=True
        )
        for channel in response.get("channels") or []:
            if channel.get("name") in names:
                found[channel["name"]] = channel["id"]
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None or names <= found.keys():
            return found

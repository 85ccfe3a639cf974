"""Who is who in the workspace: agents (by id or user group) and display names, cached."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from services.types import Actor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    name: str
    avatar: str | None  # image_72's URL


class People:
    """Answers "is this user an agent?" and "what is their name?" with a small TTL cache."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        agent_user_ids: Iterable[str],
        agent_usergroup: str | None,
        ttl_seconds: float = 300.0,
    ) -> None:
        self._client = client
        self._agent_ids = frozenset(agent_user_ids)
        self._usergroup = agent_usergroup
        self._ttl = ttl_seconds
        self._group_members: frozenset[str] = frozenset()
        self._group_loaded_at = float("-inf")
        self._profiles: dict[str, tuple[Profile, float]] = {}

    async def is_agent(self, user_id: str) -> bool:
        """Agents are the configured user ids plus the members of the agent user group."""
        if user_id in self._agent_ids:
            return True
        if not self._usergroup:
            return False
        return user_id in await self._usergroup_members()

    async def name(self, user_id: str) -> str:
        """The user's display name, or the id when Slack cannot tell."""
        return (await self.profile(user_id)).name

    async def profile(self, user_id: str) -> Profile:
        """The user's display name and avatar (one users.info per TTL)."""
        cached = self._profiles.get(user_id)
        if cached and time.monotonic() - cached[1] < self._ttl:
            return cached[0]
        try:
            response = await self._client.users_info(user=user_id)
            user = response.get("user") or {}
            about = user.get("profile") or {}
            name = about.get("display_name") or user.get("real_name") or user.get("name")
            found = Profile(str(name or user_id), about.get("image_72") or None)
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            found = Profile(user_id, None)
        self._profiles[user_id] = (found, time.monotonic())
        return found

    async def actor(self, user_id: str) -> Actor:
        """The domain's view of a Slack user."""
        return Actor(
            id=user_id, name=await self.name(user_id), is_agent=await self.is_agent(user_id)
        )

    async def _usergroup_members(self) -> frozenset[str]:
        if self._usergroup is None or time.monotonic() - self._group_loaded_at < self._ttl:
            return self._group_members
        try:
            response = await self._client.usergroups_users_list(usergroup=self._usergroup)
            self._group_members = frozenset(response.get("users") or [])
            self._group_loaded_at = time.monotonic()
        except SlackApiError as exc:
            # Keep the last known members: a Slack hiccup must not demote every agent.
            log.warning("usergroups.users.list failed: %s", exc.response.get("error"))
        return self._group_members

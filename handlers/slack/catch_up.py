"""Catching up on customers' Slack messages the process acked but did not store.

Slack sends an event once and Socket Mode acks it at once; a message that waited in memory
for the database (storage/availability.retrying) is lost if the process dies meanwhile. So
at start the bot reads what was written in each intake channel and in its DMs since the
last message it stored there (`conversations.history`, and `conversations.replies` for
threads with new replies), and hands each customer message to the same path as an event:
the external id (`<channel>:<ts>`) makes one it already has a no-op.

A channel where nothing was ever stored is not read back (a new install does not import
history); neither are messages older than MAX_HOURS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.routing import Route, route_message
from services.types import Channel
from storage import queries

log = logging.getLogger(__name__)

MAX_HOURS = 24.0
PAGE = 200

Store = Callable[[dict[str, Any]], Awaitable[None]]  # one message event, as Slack sends it


class CatchUp:
    def __init__(self, client: AsyncWebClient, deps: SlackDeps, store: Store) -> None:
        self._client = client
        self._deps = deps
        self._store = store

    async def run(self) -> None:
        """The catch-up as a background task: a failure is logged, the next start retries."""
        try:
            await self()
        except Exception:  # events flow meanwhile; nothing here may take the process down
            log.exception("catching up on Slack failed")

    async def __call__(self) -> int:
        """Read back every intake channel and DM; returns how many messages were handed on
        (the ones already stored among them change nothing)."""
        handed = 0
        channels = [(channel, "channel") for channel in sorted(self._deps.channels.intake)]
        channels += [(dm, "im") for dm in await self._dms()]
        for channel, kind in channels:
            try:
                handed += await self._channel(channel, kind)
            except Exception as error:  # one channel's trouble must not stop the others
                log.warning("catch-up of %s failed: %r", channel, error)
        if handed:
            log.info("catch-up: %s Slack message(s) read back", handed)
        return handed

    async def _dms(self) -> list[str]:
        found: list[str] = []
        cursor = None
        while True:
            page = await self._client.conversations_list(types="im", limit=PAGE, cursor=cursor)
            found += [str(c["id"]) for c in page.get("channels") or []]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return found

    async def _since(self, channel: str) -> float | None:
        async with self._deps.cases.context.sessions() as session:
            last = await queries.last_external_id(session, Channel.SLACK, f"{channel}:")
        if last is None:
            return None
        return max(float(last.partition(":")[2]), time.time() - MAX_HOURS * 3600)

    async def _channel(self, channel: str, kind: str) -> int:
        since = await self._since(channel)
        if since is None:
            return 0
        # The window's threads too: a reply in an older thread comes after its parent.
        window = f"{time.time() - MAX_HOURS * 3600:.6f}"
        top: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = await self._client.conversations_history(
                channel=channel, oldest=window, limit=PAGE, cursor=cursor
            )
            top += page.get("messages") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        messages = [m for m in top if float(m["ts"]) > since]
        for parent in top:
            if not parent.get("reply_count") or float(parent.get("latest_reply", 0)) <= since:
                continue
            replies = await self._client.conversations_replies(
                channel=channel, ts=str(parent["ts"]), oldest=f"{since:.6f}", limit=1000
            )
            messages += [m for m in replies.get("messages") or [] if m.get("ts") != parent["ts"]]
        handed = 0
        for message in sorted(messages, key=lambda m: float(m["ts"])):  # in the order written
            event = {**message, "type": "message", "channel": channel, "channel_type": kind}
            if route_message(event, self._deps.channels) is Route.CUSTOMER:
                await self._store(event)
                handed += 1
        return handed

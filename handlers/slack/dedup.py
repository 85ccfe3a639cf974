"""Drop redelivered Slack events early, by event id.

Slack redelivers an envelope whose ack it did not get, possibly to another process. The
guarantee of one effect comes from the message's (channel, ts) external id, unique in the
database; this spares the work before it. One process keeps the ids in memory; several
processes on one PostgreSQL share them in a table (`processed_events`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from slack_bolt.response import BoltResponse

from services.leases import Leases

log = logging.getLogger(__name__)


class SeenIds(Protocol):
    async def seen(self, key: str) -> bool: ...


class RecentIds:
    """A bounded set that forgets the oldest ids first."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    async def seen(self, key: str) -> bool:
        """True if `key` was added before; adds it otherwise."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return True
        self._ids[key] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return False


class SharedEventIds:
    """Event ids in the shared database: a redelivery to any process is seen, unless the
    process that took the event has died since (then this one handles it)."""

    def __init__(self, leases: Leases) -> None:
        self._leases = leases

    async def seen(self, key: str) -> bool:
        try:
            return not await self._leases.take_event(key)
        except Exception as error:  # the database decides later, by the message's own id
            log.warning("event %s: shared dedup unavailable: %r", key, error)
            return False


def event_dedup_middleware(
    recent: SeenIds,
) -> Callable[..., Awaitable[BoltResponse | None]]:
    async def dedup(
        body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and await recent.seen(str(event_id)):
            return BoltResponse(status=200, body="")  # ack the redelivery, do nothing else
        await next()
        return None

    return dedup

"""Drop redelivered Slack events early, by event id.

Best effort and per process: the guarantee of one effect comes from the message's
(channel, ts) external id, unique in the database; this spares the work before it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse


class RecentIds:
    """A bounded set that forgets the oldest ids first."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    def seen(self, key: str) -> bool:
        """True if `key` was added before; adds it otherwise."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return True
        self._ids[key] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return False


def event_dedup_middleware(
    recent: RecentIds,
) -> Callable[..., Awaitable[BoltResponse | None]]:
    async def dedup(
        body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and recent.seen(str(event_id)):
            return BoltResponse(status=200, body="")  # ack the redelivery, do nothing else
        await next()
        return None

    return dedup

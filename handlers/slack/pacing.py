"""Posting pace per Slack channel: Slack allows about one message per second per channel,
with short bursts; past that it answers 429 and may drop posts.

Each post reserves the next free slot of its channel (a token bucket). A post whose slot is
further away than `max_wait` is not held in memory: it is handed back to the outbox to try
again at that time (`DeliveryDeferred`), so a ticket storm can queue thousands of posts
without timeouts, and nothing is counted as a failed attempt.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from services.outbox import DeliveryDeferred


class ChannelPacer:
    def __init__(
        self,
        *,
        per_second: float = 1.0,
        burst: int = 2,
        max_wait: float = 15.0,
        margin: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # a little slower than the limit: a post reaches Slack some milliseconds after its
        # slot, and two that arrive closer than the limit would be refused
        self._interval = (1.0 + margin) / per_second
        self._burst = burst
        self._max_wait = max_wait
        self._clock = clock
        self._next: dict[str, float] = {}  # channel → when its next post may go

    def reserve(self, channel: str) -> float:
        """Take the channel's next slot; returns seconds to wait for it."""
        now = self._clock()
        # an idle channel has up to `burst` posts in hand
        earliest = max(self._next.get(channel, 0.0), now - (self._burst - 1) * self._interval)
        wait = earliest - now
        if wait > self._max_wait:
            raise DeliveryDeferred(wait, f"channel {channel} is posting at its limit")
        self._next[channel] = earliest + self._interval
        return max(wait, 0.0)

    async def slot(self, channel: str) -> None:
        """Wait for this post's turn in `channel`."""
        wait = self.reserve(channel)
        if wait > 0:
            await asyncio.sleep(wait)

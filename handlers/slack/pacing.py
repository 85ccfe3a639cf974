"""Posting pace per Slack channel: Slack allows about one message per second per channel,
with short bursts; past that it answers 429 and may drop posts.

Each post reserves the next free slot of its channel (a token bucket). A post whose slot is
further away than `max_wait` is not held in memory: it is handed back to the outbox to try
again at that time (`DeliveryDeferred`), so a ticket storm can queue thousands of posts
without timeouts, and nothing is counted as a failed attempt.

Other methods have per-workspace tiers (chat.update about 50 a minute). A 429 that outlives
the client's own retries is handed back the same way, for the time Slack's Retry-After asks
(`rate_limits_defer`): counting it as a failure would back the row off exponentially, and a
storm of card updates would then wait minutes for a limit that frees again in seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from slack_sdk.errors import SlackApiError

from handlers.slack.client import response_header
from services.outbox import DeliveryDeferred

RETRY_AFTER_DEFAULT = 1.0  # seconds, when a 429 names no Retry-After
# chat.update is Tier 3: about 50 calls a minute for the whole workspace, with a burst.
UPDATES_PER_MINUTE = 50
UPDATE_BURST = 20
UPDATES = "chat.update"  # the one key of the update pacer: the limit is the workspace's


@contextmanager
def rate_limits_defer() -> Iterator[None]:
    """Turn Slack's 429 into `DeliveryDeferred` for its Retry-After; other errors pass."""
    try:
        yield
    except SlackApiError as error:
        if error.response.status_code != 429:
            raise
        raise DeliveryDeferred(retry_after(error.response.headers), "Slack rate limit") from error


def retry_after(headers: dict[str, object]) -> float:
    """Seconds from a Retry-After header (any case), at least one; the default if unreadable."""
    value = response_header(headers, "Retry-After")
    try:
        return max(1.0, float(value.strip())) if value is not None else RETRY_AFTER_DEFAULT
    except ValueError:
        return RETRY_AFTER_DEFAULT


class ChannelPacer:
    """A token bucket per key: a channel for posts, or a method for a workspace-wide tier."""

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


def update_pacer(clock: Callable[[], float] = time.monotonic) -> ChannelPacer:
    """Card updates at chat.update's tier. One whose turn is more than a second away goes
    back to the outbox instead of calling Slack for a 429, so the renders that pile up behind
    it meanwhile go out as one (services/outbox/plan.py)."""
    return ChannelPacer(
        per_second=UPDATES_PER_MINUTE / 60, burst=UPDATE_BURST, max_wait=1.0, clock=clock
    )

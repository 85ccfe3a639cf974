"""Failure injection and Slack's per-channel posting rate limit.

Kept apart from the HTTP layer so the rules are plain, synchronous and easy
to reason about: the web layer only asks "should this call fail, and how?".
"""

from __future__ import annotations

import itertools
import math
import time
from collections import deque
from collections.abc import Callable, Iterable

from bot.sandbox.emulator.models import Fault

# What an outage serves, in turn: rate limits with Retry-After, server errors, dropped
# connections (the three ways Slack's Web API fails).
OUTAGE_FAULTS = (
    Fault(429, "ratelimited", 5),
    Fault(500, "internal_error"),
    Fault(503, "service_unavailable"),
    Fault(drop=True, error="connection_dropped"),
)


class FaultInjector:
    """Queues of one-shot failures per Web API method, and outages that last a while."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._queues: dict[str, deque[Fault]] = {}
        self._clock = clock
        self._outages: dict[str, float] = {}  # method -> until (clock time)
        self._turn = itertools.cycle(OUTAGE_FAULTS)
        self.served_in_outage = 0

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        error: str | None = None,
        drop: bool = False,
        count: int = 1,
    ) -> None:
        """Make the next `count` calls of `method` fail.

        status=429 answers "ratelimited" with a Retry-After header (default 1 s);
        other statuses answer that HTTP status; `error` alone answers HTTP 200
        with {"ok": false, "error": error}; drop=True closes the connection.
        """
        if count < 1:
            raise ValueError("count must be >= 1")
        if not drop and status is None and error is None:
            raise ValueError("fail_next needs status=, error= or drop=True")
        if status == 429:
            fault = Fault(429, error or "ratelimited", retry_after or 1)
        elif drop:
            fault = Fault(drop=True, error="connection_dropped")
        else:
            fault = Fault(status or 200, error or "internal_error", retry_after)
        self._queues.setdefault(method, deque()).extend([fault] * count)

    def outage(self, methods: Iterable[str], seconds: float) -> None:
        """Every call of `methods` fails for `seconds`, with each of OUTAGE_FAULTS in turn."""
        if seconds <= 0:
            raise ValueError("an outage lasts a positive number of seconds")
        until = self._clock() + seconds
        for method in methods:
            self._outages[method] = until

    def in_outage(self, method: str) -> bool:
        return self._clock() < self._outages.get(method, -math.inf)

    def take(self, method: str) -> Fault | None:
        """The fault `method` gets now: a queued one-shot fault first, then an outage's."""
        queue = self._queues.get(method)
        if queue:
            return queue.popleft()
        if self.in_outage(method):
            self.served_in_outage += 1
            return next(self._turn)
        return None

    def pending(self, method: str) -> int:
        return len(self._queues.get(method, ()))


class ChannelRateLimiter:
    """Token bucket per channel: `rate` posts/s with a small burst, like Slack's 1/s rule."""

    def __init__(self, rate: float | None, burst: int = 3) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, stamp)

    def acquire(self, channel_id: str) -> int | None:
        """Take a token; return None if allowed, else seconds to Retry-After."""
        if self.rate is None or self.rate <= 0:
            return None
        now = time.monotonic()
        tokens, stamp = self._buckets.get(channel_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.rate)
        if tokens >= 1.0:
            self._buckets[channel_id] = (tokens - 1.0, now)
            return None
        self._buckets[channel_id] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.rate))

"""Slack's per-method rate limit tiers, with the burst Slack tolerates.

Each Web API method sits in a tier (api.slack.com/apis/rate-limits): Tier 1 allows about one
call a minute, Tier 2 twenty, Tier 3 fifty, Tier 4 a hundred, each with a burst of about a
minute's allowance. Past that Slack answers HTTP 429 with `Retry-After`. chat.postMessage is
"special" (about one post per second per channel) and has its own limiter in faults.py.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

# tier -> (calls per minute, burst)
TIERS: dict[int, tuple[float, float]] = {1: (1, 5), 2: (20, 20), 3: (50, 50), 4: (100, 100)}

METHOD_TIERS: dict[str, int] = {
    "apps.connections.open": 1,
    "conversations.list": 2,
    "users.list": 2,
    "usergroups.list": 2,
    "usergroups.users.list": 2,
    "chat.update": 3,
    "chat.delete": 3,
    "reactions.add": 3,
    "conversations.info": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.open": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "views.publish": 4,
    "users.info": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "files.info": 4,
    "auth.test": 4,
}


class MethodRateLimiter:
    """A token bucket per method, sized by its tier; off when `enabled` is False."""

    def __init__(self, enabled: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # method -> (tokens, stamp)

    def acquire(self, method: str) -> int | None:
        """Take a call; None if allowed, else the seconds Slack would put in Retry-After."""
        tier = METHOD_TIERS.get(method)
        if not self.enabled or tier is None:
            return None
        per_minute, burst = TIERS[tier]
        rate = per_minute / 60.0
        now = self._clock()
        tokens, stamp = self._buckets.get(method, (burst, now))
        tokens = min(burst, tokens + (now - stamp) * rate)
        if tokens >= 1.0:
            self._buckets[method] = (tokens - 1.0, now)
            return None
        self._buckets[method] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / rate))

"""A token bucket per API token: `rate` requests a minute, bursts of up to `burst`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Bucket:
    tokens: float
    at: float


class RateLimiter:
    """`take(key)` answers 0 when the request may go, else the seconds to wait."""

    def __init__(
        self,
        *,
        per_minute: float,
        burst: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("the rate and the burst must be positive")
        self._per_second = per_minute / 60.0
        self._burst = float(burst)
        self._monotonic = monotonic
        self._buckets: dict[str, Bucket] = {}

    def take(self, key: str) -> float:
        """Spend one request of `key`'s bucket; when it is empty, how long until one refills."""
        now = self._monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._per_second)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._per_second

    @staticmethod
    def retry_after(wait: float) -> str:
        """A Retry-After header value: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait)))

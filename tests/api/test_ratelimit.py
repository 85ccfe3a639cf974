"""The per-token bucket: a burst at once, then the per-minute rate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.api.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_next_waits_for_one_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, monotonic=clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == pytest.approx(1.0)  # one a second
    clock.now += 0.5
    assert limiter.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("a") == 0


def test_tokens_have_their_own_buckets() -> None:
    limiter = RateLimiter(per_minute=60, burst=1, monotonic=Clock())
    assert limiter.take("a") == 0
    assert limiter.take("a") > 0
    assert limiter.take("b") == 0


def test_a_long_pause_refills_only_up_to_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=2, monotonic=clock)
    limiter.take("a")
    clock.now += 3600
    assert [limiter.take("a") for _ in range(3)][-1] > 0


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (59.5, "60")])
def test_retry_after_is_whole_seconds_at_least_one(wait: float, header: str) -> None:
    assert RateLimiter.retry_after(wait) == header


@given(
    per_minute=st.floats(0.1, 10_000),
    burst=st.integers(1, 100),
    gaps=st.lists(st.floats(0, 5), max_size=50),
)
def test_never_more_than_the_burst_plus_the_rate(
    per_minute: float, burst: int, gaps: list[float]
) -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=per_minute, burst=burst, monotonic=clock)
    allowed = 0
    for gap in gaps:
        clock.now += gap
        wait = limiter.take("a")
        assert wait >= 0
        allowed += wait == 0
    assert allowed <= burst + sum(gaps) * per_minute / 60 + 1e-6

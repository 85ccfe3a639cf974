"""The circuit breaker as a pure state machine."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.triage.breaker import Breaker, State
from tests.conftest import Ticks


def test_opens_after_repeated_failures_and_probes_after_the_cooldown() -> None:
    clock = Ticks()
    breaker = Breaker(threshold=3, cooldown_seconds=60, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record(ok=False)
    assert breaker.state == State.CLOSED
    assert breaker.allow()
    breaker.record(ok=False)
    assert breaker.state == State.OPEN and not breaker.allow()

    clock.now = 59.9
    assert not breaker.allow()
    clock.now = 60
    assert breaker.state == State.HALF_OPEN
    assert breaker.allow()  # one probe
    assert not breaker.allow()  # and only one
    breaker.record(ok=False)  # the probe failed: open again for a full cooldown
    clock.now = 100
    assert breaker.state == State.OPEN
    clock.now = 120
    assert breaker.allow()
    breaker.record(ok=True, seconds=0.3)
    assert breaker.state == State.CLOSED and breaker.allow()


def test_slow_answers_count_as_failures() -> None:
    breaker = Breaker(threshold=2, slow_seconds=5, clock=Ticks())
    breaker.record(ok=True, seconds=9)
    breaker.record(ok=True, seconds=7)
    assert breaker.state == State.OPEN


def test_a_success_resets_the_count() -> None:
    breaker = Breaker(threshold=2, clock=Ticks())
    breaker.record(ok=False)
    breaker.record(ok=True)
    breaker.record(ok=False)
    assert breaker.state == State.CLOSED


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 20), st.floats(0, 100)), max_size=60))
def test_never_more_than_one_probe_while_not_closed(
    events: list[tuple[bool, float, float]],
) -> None:
    clock = Ticks()
    breaker = Breaker(threshold=3, cooldown_seconds=30, slow_seconds=5, clock=clock)
    for ok, seconds, wait in events:
        clock.now += wait
        if breaker.state != State.CLOSED:
            allowed = [breaker.allow() for _ in range(3)]
            assert sum(allowed) <= 1
            if any(allowed):
                breaker.record(ok=ok, seconds=seconds)
        elif breaker.allow():
            breaker.record(ok=ok, seconds=seconds)

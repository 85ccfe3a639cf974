"""A circuit breaker for the model API: after repeated failures or slow calls, stop asking
for a while and let the local classifier answer; then let one probe through.

Closed → (failures in a row ≥ threshold) → open → (cooldown passed) → half-open: one call
is let through; success closes, failure opens again. A call slower than `slow_seconds`
counts as a failure even if it answered: triage must stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

Clock = Callable[[], float]


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass
class Breaker:
    threshold: int = 3
    cooldown_seconds: float = 60.0
    slow_seconds: float = 5.0
    clock: Clock = field(default=lambda: 0.0)
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False

    @property
    def state(self) -> State:
        if self.opened_at is None:
            return State.CLOSED
        if self.clock() - self.opened_at >= self.cooldown_seconds:
            return State.HALF_OPEN
        return State.OPEN

    def allow(self) -> bool:
        """Whether a call may go to the model now (half-open lets one probe at a time)."""
        state = self.state
        if state == State.CLOSED:
            return True
        if state == State.HALF_OPEN and not self.probing:
            self.probing = True
            return True
        return False

    def record(self, *, ok: bool, seconds: float = 0.0) -> None:
        """The outcome of a call that `allow` let through."""
        self.probing = False
        if ok and seconds <= self.slow_seconds:
            self.failures = 0
            self.opened_at = None
            return
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.threshold:
            self.opened_at = self.clock()  # (re)open: a failed probe restarts the cooldown

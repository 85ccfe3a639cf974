"""The emulator's outages: every call fails for a while, in each of Slack's ways, then none."""

from __future__ import annotations

import pytest

from bot.sandbox.emulator.faults import OUTAGE_FAULTS, FaultInjector
from tests.conftest import Ticks


def test_an_outage_fails_every_call_in_each_way_until_it_ends() -> None:
    clock = Ticks(100.0)
    faults = FaultInjector(clock)
    faults.outage(["chat.postMessage", "chat.update"], seconds=60)

    served = [faults.take("chat.postMessage") for _ in range(8)]
    assert served == [*OUTAGE_FAULTS, *OUTAGE_FAULTS]
    assert {(f.status, f.drop) for f in OUTAGE_FAULTS} == {
        (429, False),
        (500, False),
        (503, False),
        (200, True),
    }
    assert faults.take("chat.update") is not None
    assert faults.take("users.info") is None, "other methods answer"

    clock.now += 59.9
    assert faults.take("chat.update") is not None
    clock.now += 0.1
    assert faults.take("chat.postMessage") is None
    assert faults.take("chat.update") is None
    assert faults.served_in_outage == 10


def test_one_shot_faults_come_first_and_outages_must_last() -> None:
    faults = FaultInjector(Ticks(100.0))
    faults.outage(["chat.postMessage"], seconds=10)
    faults.fail_next("chat.postMessage", error="channel_not_found")
    first = faults.take("chat.postMessage")
    assert first is not None and first.error == "channel_not_found"
    assert faults.take("chat.postMessage") == OUTAGE_FAULTS[0]
    with pytest.raises(ValueError):
        faults.outage(["chat.update"], seconds=0)

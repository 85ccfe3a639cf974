"""The per-channel posting pace (pure: a fake clock)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.slack.pacing import (
    UPDATE_BURST,
    UPDATES_PER_MINUTE,
    ChannelPacer,
    retry_after,
    update_pacer,
)
from services.outbox import DeliveryDeferred
from tests.conftest import Ticks


def test_a_burst_of_three_then_one_per_second_per_channel() -> None:
    clock = Ticks(1000.0)
    pacer = ChannelPacer(per_second=1.0, burst=3, margin=0, clock=clock)
    assert [pacer.reserve("C1") for _ in range(5)] == [0, 0, 0, 1.0, 2.0]
    assert pacer.reserve("C2") == 0, "channels are paced apart"
    clock.now += 10
    assert pacer.reserve("C1") == 0, "an idle channel has its burst back"


def test_a_post_too_far_ahead_is_deferred_not_held() -> None:
    pacer = ChannelPacer(per_second=1.0, burst=1, max_wait=2.0, margin=0, clock=Ticks(1000.0))
    assert [pacer.reserve("C1") for _ in range(3)] == [0, 1.0, 2.0]
    with pytest.raises(DeliveryDeferred) as deferred:
        pacer.reserve("C1")
    assert deferred.value.seconds == 3.0
    assert pacer.reserve("C2") == 0


@given(st.lists(st.floats(min_value=0, max_value=5), min_size=1, max_size=60))
def test_no_window_of_ten_seconds_has_more_than_ten_posts_plus_the_burst(
    gaps: list[float],
) -> None:
    clock = Ticks(1000.0)
    pacer = ChannelPacer(per_second=1.0, max_wait=1e9, clock=clock)
    sent = []
    for gap in gaps:
        clock.now += gap
        sent.append(clock.now + pacer.reserve("C"))
    for start in sent:
        assert sum(start <= t < start + 10 for t in sent) <= 10 + 1, "default: burst of 2"


def test_card_updates_keep_to_chat_updates_tier_and_defer_the_rest() -> None:
    """A storm of card updates takes the burst, then about 50 a minute; an update whose turn
    is more than a second away goes back to the outbox without a call that Slack would 429."""
    clock = Ticks(1000.0)
    pacer = update_pacer(clock)
    waits = []
    with pytest.raises(DeliveryDeferred):
        for _ in range(UPDATE_BURST + 5):
            waits.append(pacer.reserve("chat.update"))
    assert waits[:UPDATE_BURST] == [0] * UPDATE_BURST
    assert all(0 < w <= 1.0 for w in waits[UPDATE_BURST:])
    clock.now += 60
    in_a_minute = 0
    try:
        while True:
            pacer.reserve("chat.update")
            in_a_minute += 1
    except DeliveryDeferred:
        pass
    assert in_a_minute <= UPDATES_PER_MINUTE, "a minute later: at most a minute's allowance"


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": " 3 "}, 3.0),
        ({"Retry-After": "0"}, 1.0),
        ({"Retry-After": "soon"}, 1.0),
        ({}, 1.0),
    ],
)
def test_retry_after_is_read_in_any_case_and_at_least_a_second(
    headers: dict[str, object], seconds: float
) -> None:
    assert retry_after(headers) == seconds

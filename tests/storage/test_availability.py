"""Which database errors mean "wait and try again" (storage/availability.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from storage.availability import retrying, unavailable

POOL_EXHAUSTED = PoolTimeout("QueuePool limit of size 5 overflow 10 reached")


@pytest.mark.parametrize(
    "error",
    [
        POOL_EXHAUSTED,
        OperationalError("SELECT 1", {}, Exception("connection refused")),
        ConnectionRefusedError(),
        TimeoutError(),
    ],
)
def test_the_database_away_or_busy_is_unavailable(error: Exception) -> None:
    assert unavailable(error)


def test_a_refused_row_is_not_unavailable() -> None:
    assert not unavailable(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not unavailable(ValueError("a bug"))


async def test_a_message_waiting_for_a_free_connection_is_tried_again_not_dropped() -> None:
    """The burst that exhausted the pool passes; the message is stored on the next try."""
    tries: list[int] = []

    async def ingest() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise POOL_EXHAUSTED
        return "stored"

    assert await retrying(ingest, what="message", first_delay=0.01) == "stored"
    assert len(tries) == 3


async def test_a_bug_is_raised_at_once() -> None:
    async def ingest() -> str:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await retrying(ingest, what="message", first_delay=0.01)

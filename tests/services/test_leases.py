"""Leases and shared Slack event ids on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from services.leases import Leases
from storage.engine import SessionFactory
from tests.conftest import Clock


def leases(sessions: SessionFactory, clock: Clock, holder: str) -> Leases:
    return Leases(sessions, holder=holder, ttl=timedelta(seconds=10), clock=clock)


async def test_a_lease_has_one_holder_until_it_expires_or_is_released(
    sessions: SessionFactory, clock: Clock
) -> None:
    a, b = leases(sessions, clock, "a"), leases(sessions, clock, "b")
    assert await a.claim("imap:box")
    assert not await b.claim("imap:box")
    clock.advance(seconds=9)
    assert await a.claim("imap:box"), "the holder renews"
    clock.advance(seconds=9)
    assert not await b.claim("imap:box"), "renewed: still a's"
    assert await a.holder_of("imap:box") == "a"
    clock.advance(seconds=2)
    assert await b.claim("imap:box"), "a stopped renewing: b takes over"
    assert not await a.claim("imap:box")
    await b.release("imap:box")
    assert await a.holder_of("imap:box") is None
    assert await a.claim("imap:box")


async def test_many_claimers_at_once_get_one_holder(sessions: SessionFactory, clock: Clock) -> None:
    claimers = [leases(sessions, clock, f"p{n}") for n in range(8)]
    won = await asyncio.gather(*(c.claim("imap:box") for c in claimers))
    assert sum(won) == 1


async def test_an_event_is_handled_by_one_live_process(
    sessions: SessionFactory, clock: Clock
) -> None:
    a, b = leases(sessions, clock, "a"), leases(sessions, clock, "b")
    await a.heartbeat()
    await b.heartbeat()
    assert await a.take_event("Ev1")
    assert not await b.take_event("Ev1"), "a redelivery to another process"
    assert not await a.take_event("Ev1"), "a redelivery to the same process"
    assert await b.take_event("Ev2")


async def test_the_event_of_a_dead_process_is_taken_over(
    sessions: SessionFactory, clock: Clock
) -> None:
    a, b = leases(sessions, clock, "a"), leases(sessions, clock, "b")
    await a.heartbeat()
    assert await a.take_event("Ev1")
    clock.advance(seconds=11)  # a stopped beating (killed before it could ack)
    await b.heartbeat()
    assert await b.take_event("Ev1")
    assert not await a.take_event("Ev1"), "b is alive and has it now"


async def test_retire_ends_a_process_at_once_and_tidy_forgets_old_rows(
    sessions: SessionFactory, clock: Clock
) -> None:
    a, b = leases(sessions, clock, "a"), leases(sessions, clock, "b")
    await a.heartbeat()
    await b.heartbeat()
    assert await a.take_event("Ev1")
    await a.retire()
    assert await b.take_event("Ev1")
    clock.advance(days=2)
    assert await b.tidy() == 2  # the event id and b's long-expired heartbeat
    assert await a.take_event("Ev1")

"""Tickets posted to `POST /tickets`: stored at once, filed once by whichever worker gets
there, retried with back-off, and never filed twice after a worker dies half-way."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import func, select

from services.cases import CaseService
from services.ticket_intake import NewTicket, TicketIntake, backoff, inbound
from storage import ticket_queries
from storage.engine import SessionFactory
from storage.metrics_queries import read_snapshot
from storage.models import Case, Message, SubmittedTicket, TicketIntakeStatus
from storage.queries import messages_of
from tests.conftest import Clock


def intake(
    sessions: SessionFactory, service: CaseService, clock: Clock, holder: str = "p1", **kw: Any
) -> TicketIntake:
    return TicketIntake(sessions, service, holder=holder, clock=clock, **kw)


async def messages(sessions: SessionFactory) -> int:
    async with sessions() as session:
        return int((await session.exec(select(func.count()).select_from(Message))).one())


async def stored(sessions: SessionFactory, ticket_id: str) -> SubmittedTicket:
    async with sessions() as session:
        ticket = await session.get(SubmittedTicket, ticket_id)
        assert ticket is not None
        return ticket


async def test_a_ticket_waits_pending_then_is_filed_on_a_case_of_its_own(
    sessions: SessionFactory, service: CaseService, clock: Clock
) -> None:
    woken: list[bool] = []
    tickets = intake(sessions, service, clock, notify=lambda: woken.append(True))

    first = await tickets.submit(NewTicket(text="The mobile app is down", subject="Outage"))
    second = await tickets.submit(NewTicket(text="The mobile app is down"))

    assert woken == [True, True], "each submit wakes the worker"
    state = await tickets.state(first.id)
    assert state is not None and state.ticket.status == TicketIntakeStatus.PENDING
    assert state.case is None
    assert await tickets.process_due() == 2
    assert await tickets.process_due() == 0, "nothing is filed twice"
    filed = await tickets.state(first.id)
    assert filed is not None and filed.ticket.status == TicketIntakeStatus.COMPLETED
    assert filed.case is not None and filed.case.subject == "Outage"
    assert (filed.case.source, filed.case.origin_channel) == ("api", "tickets")
    other = await tickets.state(second.id)
    assert other is not None and other.case is not None
    assert other.case.number != filed.case.number, "anonymous tickets are separate customers"
    assert await tickets.state("nope") is None


async def test_one_customers_tickets_are_filed_in_order_on_one_case(
    sessions: SessionFactory, service: CaseService, clock: Clock
) -> None:
    tickets = intake(sessions, service, clock)
    texts = ["Card declined", "Still declined", "Please help", "Anyone?"]
    ids = []
    for text in texts:
        ids.append((await tickets.submit(NewTicket(text=text, customer_id="CUST-9"))).id)
        await tickets.submit(NewTicket(text=f"other customer: {text}"))  # filed alongside
        clock.advance(seconds=1)

    assert await tickets.process_due() == 8, "one batch"

    states = [await tickets.state(i) for i in ids]
    numbers = {s.case.number for s in states if s is not None and s.case is not None}
    assert len(numbers) == 1, states
    async with sessions() as session:
        stored = await messages_of(session, numbers.pop())
    assert [m.body for m in stored] == texts, "one case, in the order submitted"
    async with sessions() as session:
        cases = (await session.exec(select(func.count()).select_from(Case))).one()
    assert cases == 5


async def test_two_workers_file_each_ticket_once(
    sessions: SessionFactory, service: CaseService, clock: Clock
) -> None:
    one, two = intake(sessions, service, clock, "p1"), intake(sessions, service, clock, "p2")
    ids = [(await one.submit(NewTicket(text=f"ticket {n}"))).id for n in range(12)]

    handled = await asyncio.gather(one.process_due(), two.process_due())

    assert sum(handled) == 12
    assert await messages(sessions) == 12
    assert {(await stored(sessions, i)).status for i in ids} == {TicketIntakeStatus.COMPLETED}


async def test_a_worker_that_died_after_filing_is_finished_by_another_without_a_duplicate(
    sessions: SessionFactory, service: CaseService, clock: Clock
) -> None:
    tickets = intake(sessions, service, clock, "alive", lease=timedelta(seconds=60))
    ticket = await tickets.submit(NewTicket(text="My payment failed"))
    # Another worker took the ticket and filed its message, then died before recording it.
    async with sessions() as session, session.begin():
        until = clock() + timedelta(seconds=60)
        taken = await ticket_queries.hold_all(session, [ticket.id], clock(), until, "dead")
        assert [t.id for t in taken] == [ticket.id]
    await service.intake.ingest(inbound(await stored(sessions, ticket.id)))

    assert await tickets.process_due() == 0, "held: the dead worker's lease has not run out"
    assert (await stored(sessions, ticket.id)).status == TicketIntakeStatus.PROCESSING
    clock.advance(seconds=61)
    assert await tickets.process_due() == 1
    done = await stored(sessions, ticket.id)
    assert (done.status, done.attempts, done.held_by) == (TicketIntakeStatus.COMPLETED, 2, "alive")
    assert done.case_id == 1
    assert await messages(sessions) == 1, "the ticket's id is the message's: filed once"


async def test_failures_back_off_then_give_up_with_the_reason(
    sessions: SessionFactory, service: CaseService, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: Any) -> None:
        raise RuntimeError("model exploded")

    monkeypatch.setattr(service.intake, "ingest", broken)
    tickets = intake(sessions, service, clock, max_attempts=3)
    ticket = await tickets.submit(NewTicket(text="hello"))

    assert await tickets.process_due() == 1
    failed_once = await stored(sessions, ticket.id)
    assert failed_once.status == TicketIntakeStatus.PENDING
    assert failed_once.held_until == clock() + backoff(1)
    assert failed_once.last_error == "RuntimeError: model exploded"
    assert await tickets.process_due() == 0, "resting"
    for _ in range(2):
        clock.advance(minutes=10)
        assert await tickets.process_due() == 1
    given_up = await stored(sessions, ticket.id)
    assert (given_up.status, given_up.attempts) == (TicketIntakeStatus.FAILED, 3)
    clock.advance(days=1)
    assert await tickets.process_due() == 0, "a failed ticket stays failed"


def test_backoff_doubles_up_to_five_minutes() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, 12)]
    assert waits[:4] == [2, 4, 8, 16]
    assert waits == sorted(waits) and max(waits) == 300


async def test_the_oldest_ticket_is_filed_first(
    sessions: SessionFactory, service: CaseService, clock: Clock
) -> None:
    tickets = intake(sessions, service, clock)
    ids = []
    for n in range(3):
        ids.append((await tickets.submit(NewTicket(text=f"t{n}", customer_id=f"c{n}"))).id)
        clock.advance(seconds=1)
    filed = []
    for _ in ids:
        assert await tickets.process_due(limit=1) == 1
        async with sessions() as session:
            stmt = select(SubmittedTicket.id).where(
                SubmittedTicket.status == TicketIntakeStatus.COMPLETED
            )
            filed.append(set((await session.exec(stmt)).all()))
    assert [ids[:1], ids[:2], ids] == [sorted(f, key=ids.index) for f in filed]


async def test_metrics_count_the_tickets_waiting_and_the_failed(
    sessions: SessionFactory, service: CaseService, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = intake(sessions, service, clock, max_attempts=1)
    for n in range(3):
        await tickets.submit(NewTicket(text=f"ticket {n}"))
    assert (await read_snapshot(sessions, clock())).tickets_waiting == 3

    await tickets.process_due(limit=2)

    async def broken(*_args: Any) -> None:
        raise RuntimeError("model exploded")

    monkeypatch.setattr(service.intake, "ingest", broken)
    await tickets.process_due()

    snap = await read_snapshot(sessions, clock())
    assert (snap.tickets_waiting, snap.tickets_failed) == (0, 1)

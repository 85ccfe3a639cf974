"""The outbox dispatcher on a real database, with a recording delivery function."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlmodel import col, select

from bot.dispatcher import LANES, MAIL_AT_ONCE, OutboxDispatcher
from services.cases import CaseService
from services.outbox import DeliveryDeferred
from services.types import CustomerIdentity, InboundMessage
from storage import outbox_queries
from storage.engine import SessionFactory
from storage.models import AuditEvent, OutboxItem, OutboxStatus
from tests.builders import AGENT, email_message, slack_message
from tests.conftest import Clock


class Recorder:
    """Delivers by remembering; fails the kinds it is told to, a given number of times."""

    def __init__(self, failures: dict[str, int] | None = None) -> None:
        self.delivered: list[tuple[int | None, str, bool]] = []
        self.payloads: list[dict[str, object]] = []
        self.failures = dict(failures or {})

    async def __call__(self, item: OutboxItem, superseded: bool) -> None:
        if self.failures.get(item.kind, 0) > 0:
            self.failures[item.kind] -= 1
            raise ConnectionError(f"{item.kind} is down")
        self.delivered.append((item.case_id, item.kind, superseded))
        self.payloads.append(item.payload)


async def rows(sessions: SessionFactory) -> list[OutboxItem]:
    async with sessions() as session:
        return list((await session.exec(select(OutboxItem).order_by(col(OutboxItem.id)))).all())


async def test_delivers_in_order_and_skips_superseded_card_renders(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(slack_message("one"))
    await service.intake.ingest(slack_message("two"))
    recorder = Recorder()
    dispatcher = OutboxDispatcher(sessions, recorder, clock=clock)

    assert await dispatcher.drain_once() == 5
    assert recorder.delivered == [
        (1, "customer.ack", False),
        (1, "case.card", True),  # a later card render follows in the same batch
        (1, "case.thread", False),  # both mirrors, side by side: one post
        (1, "case.card", False),  # the newest render, once, at the end
    ]
    assert recorder.payloads[2] == {
        "batch": [{"text": "one", "author": "carol"}, {"text": "two", "author": "carol"}]
    }
    assert all(r.status == OutboxStatus.DONE for r in await rows(sessions))
    assert await dispatcher.drain_once() == 0


async def test_a_failure_holds_back_its_own_stream_only(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(slack_message("first customer", user="U1"))
    await service.intake.ingest(slack_message("second customer", user="U2"))
    recorder = Recorder(failures={"case.card": 1})
    dispatcher = OutboxDispatcher(sessions, recorder, clock=clock)

    await dispatcher.drain_once()
    # Case 1's card fails once: its mirror waits behind it, while its acknowledgement (the
    # customer's stream) and all of case 2 go through.
    assert sorted(d[:2] for d in recorder.delivered) == [
        (1, "customer.ack"),
        (2, "case.card"),
        (2, "case.thread"),
        (2, "customer.ack"),
    ]
    assert await dispatcher.drain_once() == 0, "the failed row is backing off"

    clock.advance(seconds=2)
    await dispatcher.drain_once()
    assert [d[:2] for d in recorder.delivered[4:]] == [(1, "case.card"), (1, "case.thread")]
    card = (await rows(sessions))[1]
    assert card.kind == "case.card" and card.attempts == 1 and card.status == OutboxStatus.DONE
    assert "down" in (card.last_error or "")


async def test_a_customer_channel_that_is_down_holds_back_only_the_customers_stream(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    case = (await service.intake.ingest(slack_message("hello", user="U1"))).case.number
    await service.agents.message(
        case_id=case, actor=AGENT, text="first answer", source="slack", external_id="a1"
    )
    await service.agents.message(
        case_id=case, actor=AGENT, text="second answer", source="slack", external_id="a2"
    )
    recorder = Recorder(failures={"customer.ack": 1})
    dispatcher = OutboxDispatcher(sessions, recorder, clock=clock)

    await dispatcher.drain_once()
    # (the card render between the mirror and the last render adds nothing: done unrendered)
    team = ["case.card", "case.thread", "case.card"]
    assert [d[1] for d in recorder.delivered] == team, "the agents see everything at once"
    clock.advance(seconds=2)
    await dispatcher.drain_once()
    customer = [
        (d[1], p.get("text"))
        for d, p in zip(recorder.delivered, recorder.payloads, strict=True)
        if d[1].startswith("customer.")
    ]
    assert customer == [
        ("customer.ack", None),
        ("customer.reply", "first answer"),
        ("customer.reply", "second answer"),
    ], "the customer's stream in order, once the channel is back"


async def test_gives_up_after_max_attempts_and_audits_it(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(slack_message("hello"))
    recorder = Recorder(failures={"customer.ack": 99})
    dispatcher = OutboxDispatcher(sessions, recorder, clock=clock, max_attempts=3)

    for _ in range(3):
        await dispatcher.drain_once()
        clock.advance(minutes=10)
    await dispatcher.drain_once()

    ack = (await rows(sessions))[0]
    assert ack.status == OutboxStatus.DEAD and ack.attempts == 3
    assert [d[1] for d in recorder.delivered] == ["case.card", "case.thread"], "the rest goes on"
    async with sessions() as session:
        dead = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "delivery.dead"))
        ).all()
    assert len(dead) == 1 and dead[0].data["kind"] == "customer.ack"


async def test_a_lease_keeps_rows_from_a_second_claimer_until_it_expires(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(slack_message("hello"))
    first = OutboxDispatcher(sessions, Recorder(), clock=clock, lease=timedelta(seconds=60))
    claimed = await first.claim()
    assert sum(len(g) for g in claimed) == 3

    second_recorder = Recorder()
    second = OutboxDispatcher(sessions, second_recorder, clock=clock)
    assert await second.drain_once() == 0
    clock.advance(seconds=61)
    assert await second.drain_once() == 3
    assert len(second_recorder.delivered) == 3


async def test_notifications_are_audited_when_sent(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(slack_message("hello"))
    await service.agents.close(case_id=1, actor=AGENT)
    await OutboxDispatcher(sessions, Recorder(), clock=clock).drain_once()

    async with sessions() as session:
        sent = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "notification.sent"))
        ).all()
    assert sorted(e.data["kind"] for e in sent) == ["customer.ack", "log.closure"]


async def test_two_dispatchers_deliver_each_row_once_and_each_case_in_order(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    for n in range(30):
        await service.intake.ingest(slack_message(f"message {n}", user=f"U{n % 6}"))
    seen: list[tuple[str, int]] = []

    class Slow(Recorder):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        async def __call__(self, item: OutboxItem, superseded: bool) -> None:
            await asyncio.sleep(0.001)  # a delivery that yields: the two drains interleave
            seen.append((item.ordering_key, item.id or 0))
            await super().__call__(item, superseded)

    first = OutboxDispatcher(sessions, Slow("a"), clock=clock, holder="a")
    second = OutboxDispatcher(sessions, Slow("b"), clock=clock, holder="b")
    for _ in range(20):
        await asyncio.gather(first.drain_once(), second.drain_once())
    ids = [item_id for _, item_id in seen]
    assert len(ids) == len(set(ids)), "no row delivered twice"
    for key in {key for key, _ in seen}:
        of_key = [item_id for k, item_id in seen if k == key]
        assert of_key == sorted(of_key), f"{key} out of order"
    assert all(r.status == OutboxStatus.DONE for r in await rows(sessions))


async def test_a_slow_delivery_keeps_its_lease_and_a_dead_ones_rows_are_taken_over(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(slack_message("hello"))
    holder = OutboxDispatcher(sessions, Recorder(), clock=clock, holder="a")
    assert sum(len(g) for g in await holder.claim()) == 3
    other = OutboxDispatcher(sessions, Recorder(), clock=clock, holder="b")
    clock.advance(seconds=50)
    assert await holder.renew() == 3, "still delivering: the lease is extended"
    clock.advance(seconds=50)
    assert await other.drain_once() == 0
    clock.advance(seconds=11)  # a stopped renewing (it died) a lease ago
    assert await other.drain_once() == 3
    assert await holder.renew() == 0, "its rows are delivered by another process now"


async def test_rows_backing_off_do_not_hide_later_due_rows(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    """A customer channel that is down (say SMTP) can pile up more failing rows than one
    claim reads; the cards of other cases must still go out."""
    for n in range(5):
        await service.intake.ingest(slack_message(f"message {n}", user=f"U{n}"))
    recorder = Recorder(failures={"customer.ack": 100})
    dispatcher = OutboxDispatcher(sessions, recorder, clock=clock, batch=2)
    for _ in range(10):
        await dispatcher.drain_once()
    kinds = [kind for _, kind, _ in recorder.delivered]
    assert kinds.count("case.card") == 5 and kinds.count("case.thread") == 5


async def test_a_burst_of_mirrors_into_one_thread_goes_out_as_one_delivery(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    for n in range(5):
        await service.intake.ingest(slack_message(f"message {n}"))
    recorder = Recorder()
    await OutboxDispatcher(sessions, recorder, clock=clock).drain_once()
    threads = [
        p
        for p, (_, kind, _) in zip(recorder.payloads, recorder.delivered, strict=True)
        if kind == "case.thread"
    ]
    mirror = [{"text": f"message {n}", "author": "carol"} for n in range(5)]
    # The third message escalates (3 follow-ups): its alert goes out in its place, in order;
    # the card is posted first and rendered once more at the end.
    assert threads == [{"batch": mirror[:3]}, {"batch": mirror[3:]}]
    delivered = [(kind, sup) for _, kind, sup in recorder.delivered if kind != "customer.ack"]
    assert delivered == [
        ("case.card", True),
        ("case.thread", False),
        ("alert.escalation", False),
        ("case.thread", False),
        ("case.card", False),
    ]
    assert all(r.status == OutboxStatus.DONE for r in await rows(sessions))


async def test_a_deferred_delivery_waits_without_counting_an_attempt(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(slack_message("hello"))
    calls = {"n": 0}

    async def busy(item: OutboxItem, superseded: bool) -> None:
        calls["n"] += 1
        if item.kind == "case.card" and calls["n"] < 3:
            raise DeliveryDeferred(30, "channel at its limit")

    dispatcher = OutboxDispatcher(sessions, busy, clock=clock)
    await dispatcher.drain_once()
    card = next(r for r in await rows(sessions) if r.kind == "case.card")
    assert card.status == OutboxStatus.PENDING and card.attempts == 0
    assert await dispatcher.drain_once() == 0, "not before its time"
    clock.advance(seconds=31)
    await dispatcher.drain_once()
    clock.advance(seconds=31)
    await dispatcher.drain_once()
    assert all(r.status == OutboxStatus.DONE and r.attempts == 0 for r in await rows(sessions))


async def test_a_channel_down_for_ten_minutes_loses_nothing(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    """Backoff (1 s doubling to 5 min, 30 attempts) outlasts an outage of several minutes:
    every row waits, none is given up, each goes out once when the channel is back."""
    await service.intake.ingest(slack_message("hello"))
    await service.agents.message(
        case_id=1, actor=AGENT, text="first answer", source="slack", external_id="a1"
    )
    down_until = clock() + timedelta(minutes=10)
    delivered: list[str] = []

    async def deliver(item: OutboxItem, superseded: bool) -> None:
        if item.kind.startswith("customer.") and clock() < down_until:
            raise ConnectionRefusedError("smtp down")
        delivered.append(item.kind)

    dispatcher = OutboxDispatcher(sessions, deliver, clock=clock)
    for _ in range(400):  # a pass every 5 simulated seconds: 33 minutes
        await dispatcher.drain_once()
        clock.advance(seconds=5)
    assert [k for k in delivered if k.startswith("customer.")] == [
        "customer.ack",
        "customer.reply",
    ]
    assert all(r.status == OutboxStatus.DONE for r in await rows(sessions))


async def test_due_counts_what_the_next_pass_would_claim(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    """What a stop waits for (bot/shutdown.flush_outbox): not rows backing off, nor the
    rows queued behind them."""
    await service.intake.ingest(slack_message("first", user="U1"))
    failures: list[str] = []
    dispatcher = OutboxDispatcher(
        sessions, Recorder(failures={"case.card": 1}), clock=clock, on_failure=failures.append
    )
    assert await dispatcher.due() == 3

    await dispatcher.drain_once()
    assert failures == ["case.card"]
    assert await dispatcher.pending() == 2  # the card, and the mirror behind it
    assert await dispatcher.due() == 0
    clock.advance(minutes=1)  # past the backoff
    assert await dispatcher.due() == 2


async def test_posts_waiting_for_slacks_pace_hold_back_no_mail(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    """A storm's thread posts wait for Slack (one post a second per channel); an
    acknowledgement by mail written meanwhile, claimed in a lane of its own, goes out
    without waiting for that pass to end."""
    await service.intake.ingest(slack_message("the site is down"))
    slack_waits, slack_free, mailed, all_done = (asyncio.Event() for _ in range(4))
    delivered: list[str] = []

    async def deliver(item: OutboxItem, _superseded: bool) -> None:
        if item.channel == "slack":
            slack_waits.set()
            await slack_free.wait()  # Slack's next free slot is a long way off
        delivered.append(f"{item.channel} {item.kind}")
        mailed.set() if item.channel == "email" else None
        all_done.set() if len(delivered) == 6 else None

    dispatcher = OutboxDispatcher(sessions, deliver, clock=clock)
    running = asyncio.create_task(dispatcher.run())
    try:
        await asyncio.wait_for(slack_waits.wait(), timeout=10)
        await service.intake.ingest(email_message("down for me too", "<m1@example.org>"))
        dispatcher.wake()
        await asyncio.wait_for(mailed.wait(), timeout=10)
        assert delivered == ["email customer.ack"], "the mail did not wait for Slack"
        slack_free.set()
        await asyncio.wait_for(all_done.wait(), timeout=10)
    finally:
        dispatcher.stop()
        await running
    assert sorted(delivered) == [
        "email customer.ack",
        "slack case.card",
        "slack case.card",
        "slack case.thread",
        "slack case.thread",
        "slack customer.ack",
    ]
    assert await dispatcher.pending() == 0


async def test_a_key_with_rows_in_two_lanes_keeps_their_order(
    sessions: SessionFactory, clock: Clock
) -> None:
    """Rows of one key normally share a channel; if they did not, the later row waits for
    the earlier one's lane to deliver it."""
    async with sessions() as session, session.begin():
        for channel in ("slack", "email"):
            session.add(
                OutboxItem(kind="case.card", channel=channel, ordering_key="case:1", payload={})
            )
    slack, other = LANES
    lease = {"until": clock() + timedelta(seconds=60), "holder": "a"}
    async with sessions() as session, session.begin():
        rows_, _ = await outbox_queries.claim(session, clock(), limit=10, lane=other, **lease)
        assert rows_ == [], "the email row waits behind the pending Slack row"
        first, _ = await outbox_queries.claim(session, clock(), limit=10, lane=slack, **lease)
        assert [row.channel for row in first] == ["slack"]
        await outbox_queries.mark_done(session, [first[0].id or 0], at=clock())
        second, _ = await outbox_queries.claim(session, clock(), limit=10, lane=other, **lease)
        assert [row.channel for row in second] == ["email"]


async def test_mail_goes_out_a_few_at_a_time_and_slack_posts_all_at_once(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    """Mail costs this process's own time, so a pass sends a few at once and leaves the rest
    of the event loop to intake; Slack's posts wait for Slack, so they all go side by side."""
    customers = MAIL_AT_ONCE * 2 + 1
    for n in range(customers):
        who = CustomerIdentity(name=f"Customer {n}", email=f"c{n}@example.org")
        await service.intake.ingest(
            InboundMessage(source="email", external_id=f"<n{n}@x>", body="down", customer=who)
        )
        await service.intake.ingest(slack_message("down", user=f"U{n}"))
    in_flight: Counter[str] = Counter()
    most: Counter[str] = Counter()

    async def deliver(item: OutboxItem, _superseded: bool) -> None:
        in_flight[item.channel] += 1
        most[item.channel] = max(most[item.channel], in_flight[item.channel])
        for _ in range(10):  # everything else runnable gets its turn meanwhile
            await asyncio.sleep(0)
        in_flight[item.channel] -= 1

    dispatcher = OutboxDispatcher(sessions, deliver, clock=clock)
    slack, other = LANES
    assert await dispatcher.drain_once(other) == customers
    assert await dispatcher.drain_once(slack) > customers
    keys = {row.ordering_key for row in await rows(sessions) if row.channel == "slack"}
    assert most == {"email": MAIL_AT_ONCE, "slack": len(keys)}

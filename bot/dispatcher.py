"""The outbox dispatcher: delivers pending rows with retries and backoff, in order per case.

A row is leased before delivery and marked done right after, so a crash delays a delivery
(at least once) and never loses it. Rows of one ordering key go strictly in id order: a
failed row holds back the rows written after it until it succeeds or is given up.

Several processes may dispatch from one PostgreSQL. Claims are serialised (a transaction
advisory lock; SQLite's write lock does the same), so two processes never hold rows of one
key at once. A process renews the leases of the rows it holds while it delivers them, so a
slow delivery keeps its rows, and a dead process's rows are free again one lease later.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Update, and_, exists, func, or_, text
from sqlalchemy.orm import aliased
from sqlmodel import col, select, update

from bot.tasks import sleep_unless
from services.audit import audit
from services.outbox import DeliveryDeferred, OutboxKind
from storage.engine import SessionFactory
from storage.models import OutboxItem, OutboxStatus, utcnow
from storage.queries import is_postgres

log = logging.getLogger(__name__)

# One key for every process's claim transaction (pg_advisory_xact_lock takes a bigint).
CLAIM_LOCK = 0x0CA5EB07

Deliver = Callable[[OutboxItem, bool], Awaitable[None]]
# Kinds whose delivery renders current state, so only the newest pending one matters.
COALESCING_KINDS = frozenset({OutboxKind.CASE_CARD.value})
# Kinds whose consecutive pending rows of one key go out as one delivery (a "batch" payload):
# a burst of messages into one thread (a ticket storm's master) is one post, not hundreds.
MERGEABLE_KINDS = frozenset({OutboxKind.CASE_THREAD.value})
MERGE_MAX_ITEMS = 20
MERGE_MAX_CHARS = 3_000
# Notifications to people are audited when sent; card renders and mirrors are not worth a row,
# and a ticket sync audits itself (`ticket.synced`, with the id).
AUDITED_KINDS = frozenset(
    k.value
    for k in OutboxKind
    if k not in (OutboxKind.CASE_CARD, OutboxKind.CASE_THREAD, OutboxKind.TICKET_SYNC)
)


def backoff(attempts: int, cap_seconds: float = 300.0) -> timedelta:
    """1 s, 2 s, 4 s … capped (5 minutes), with jitter so that retries do not stampede."""
    base = min(2.0 ** max(attempts - 1, 0), cap_seconds)
    return timedelta(seconds=base * random.uniform(1.0, 1.25))


class OutboxDispatcher:
    def __init__(
        self,
        sessions: SessionFactory,
        deliver: Deliver,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 200,
        lease: timedelta = timedelta(seconds=60),
        delivery_timeout: float = 60.0,
        max_attempts: int = 30,
        max_backoff: timedelta = timedelta(minutes=5),
        idle_poll_seconds: float = 1.0,
        min_gap_seconds: float = 0.05,
        holder: str = "casebot",
        on_failure: Callable[[str], None] = lambda _kind: None,
    ) -> None:
        self._sessions = sessions
        self._deliver = deliver
        self._clock = clock
        self._batch = batch
        self._lease = lease
        self._delivery_timeout = delivery_timeout
        self._holder = holder
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff.total_seconds()
        self._idle_poll = idle_poll_seconds
        self._min_gap = min_gap_seconds
        self._wakeup = asyncio.Event()
        self._held: set[int] = set()  # rows this process has leased and not settled yet
        self._stopping = asyncio.Event()
        self._on_failure = on_failure  # told the kind of each failed attempt (metrics)

    def stop(self) -> None:
        """Finish the pass in hand, then return from `run`; `release` gives back the rest."""
        self._stopping.set()
        self._wakeup.set()

    def wake(self) -> None:
        """Something was committed to the outbox: look now rather than at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        """Deliver until `stop`; the leases of rows in delivery are renewed meanwhile."""
        renewing = asyncio.create_task(self._keep_leases(), name="outbox-leases")
        try:
            while not self._stopping.is_set():
                self._wakeup.clear()
                try:
                    delivered = await self.drain_once()
                except Exception:
                    log.exception("outbox pass failed; retrying")
                    delivered = 0
                if delivered == 0 and not self._stopping.is_set():
                    await sleep_unless(self._wakeup, self._idle_poll)
                # Under a burst every commit wakes the dispatcher; a claim is a query over
                # every pending row, so passes are spaced a little and wake-ups coalesce.
                await asyncio.sleep(self._min_gap)
        finally:
            self._stopping.set()
            await renewing

    async def _keep_leases(self) -> None:
        """Every third of a lease, extend the leases of the rows this process holds."""
        period = self._lease.total_seconds() / 3
        while not self._stopping.is_set():
            await sleep_unless(self._stopping, period)
            if self._held and not self._stopping.is_set():
                try:
                    await asyncio.wait_for(self.renew(), timeout=period)
                except Exception as error:  # the next period tries again; the lease may lapse
                    log.warning("could not renew outbox leases: %r", error)

    async def renew(self) -> int:
        """Extend the leases of the rows this process holds; returns how many it still has."""
        held = list(self._held)
        if not held:
            return 0
        async with self._sessions() as session, session.begin():
            result = await session.exec(
                update(OutboxItem)
                .where(
                    col(OutboxItem.id).in_(held),
                    col(OutboxItem.claimed_by) == self._holder,
                    col(OutboxItem.status) == OutboxStatus.PENDING,
                )
                .values(claimed_until=self._clock() + self._lease)
            )
        return int(result.rowcount or 0)

    async def drain_once(self) -> int:
        """One pass: claim due rows, deliver each key's rows in order. Returns rows attempted."""
        groups = await self._claim()
        await asyncio.gather(*(self._deliver_group(group) for group in groups))
        return sum(len(group) for group in groups)

    async def pending(self) -> int:
        """Rows not delivered yet (for shutdown and tests)."""
        async with self._sessions() as session:
            stmt = select(func.count()).where(OutboxItem.status == OutboxStatus.PENDING)
            return int((await session.exec(stmt)).one())

    async def due(self) -> int:
        """Rows the next pass would claim (not backing off, not held, not behind one that is)."""
        async with self._sessions() as session:
            stmt = select(func.count()).where(_due(self._clock()))
            return int((await session.exec(stmt)).one())

    async def _claim(self) -> list[list[OutboxItem]]:
        """Lease every due row whose key has no earlier row still waiting (leased elsewhere or
        backing off), grouped by key in id order."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            if is_postgres(session):
                await session.exec(text(f"SELECT pg_advisory_xact_lock({CLAIM_LOCK})"))  # type: ignore[call-overload]
            stmt = (
                select(OutboxItem).where(_due(now)).order_by(col(OutboxItem.id)).limit(self._batch)
            )
            groups: dict[str, list[OutboxItem]] = {}
            for item in (await session.exec(stmt)).all():
                groups.setdefault(item.ordering_key, []).append(item)
            claimed = [
                item.id for group in groups.values() for item in group if item.id is not None
            ]
            self._held.update(claimed)
            if claimed:
                await session.exec(
                    update(OutboxItem)
                    .where(col(OutboxItem.id).in_(claimed))
                    .values(claimed_until=now + self._lease, claimed_by=self._holder)
                )
        return list(groups.values())

    async def _deliver_group(self, group: list[OutboxItem]) -> None:
        steps = plan(group)
        for index, step in enumerate(steps):
            later = [row for rest in steps[index + 1 :] for row in rest.rows]
            try:
                await asyncio.wait_for(
                    self._deliver(step.item, step.superseded), timeout=self._delivery_timeout
                )
            except DeliveryDeferred as deferred:
                await self._deferred(step.rows, deferred, release=later)
                return
            except Exception as exc:  # any failure is retried; none may kill the dispatcher
                await self._failed(step.rows[0], exc, release=step.rows[1:] + later)
                return
            await self._done(step.rows)

    async def release(self) -> int:
        """On an orderly stop: give back the leases of rows not delivered, for the next process.

        (After a crash the lease simply expires.)
        """
        held, self._held = list(self._held), set()
        if not held:
            return 0
        async with self._sessions() as session, session.begin():
            await session.exec(
                update(OutboxItem)
                .where(
                    col(OutboxItem.id).in_(held),
                    col(OutboxItem.status) == OutboxStatus.PENDING,
                    col(OutboxItem.claimed_by) == self._holder,
                )
                .values(claimed_until=None, claimed_by=None)
            )
        return len(held)

    async def _done(self, items: list[OutboxItem]) -> None:
        self._held.difference_update(item.id or 0 for item in items)
        async with self._sessions() as session, session.begin():
            await session.exec(
                update(OutboxItem)
                .where(col(OutboxItem.id).in_([item.id for item in items]))
                .values(
                    status=OutboxStatus.DONE,
                    delivered_at=self._clock(),
                    claimed_until=None,
                    claimed_by=None,
                )
            )
            for item in items:
                log.debug(
                    "outbox item %s (%s) delivered",
                    item.id,
                    item.kind,
                    extra={"case": item.case_id, "outbox_id": item.id, "kind": item.kind},
                )
                if item.kind in AUDITED_KINDS:
                    audit(
                        session,
                        item.case_id,
                        "notification.sent",
                        "casebot",
                        kind=item.kind,
                        outbox_id=item.id,
                    )

    async def _deferred(
        self, run: list[OutboxItem], deferred: DeliveryDeferred, *, release: list[OutboxItem]
    ) -> None:
        """Not now, later: the rows wait `deferred.seconds`; no failed attempt is counted."""
        self._held.difference_update(x.id or 0 for x in (*run, *release))
        async with self._sessions() as session, session.begin():
            await session.exec(
                update(OutboxItem)
                .where(col(OutboxItem.id).in_([x.id for x in run]))
                .values(
                    next_attempt_at=self._clock() + timedelta(seconds=deferred.seconds),
                    claimed_until=None,
                    claimed_by=None,
                )
            )
            if release:
                await session.exec(_unclaimed(release))
        log.debug(
            "outbox items %s deferred %.1f s: %s", [x.id for x in run], deferred.seconds, deferred
        )

    async def _failed(self, item: OutboxItem, exc: Exception, *, release: list[OutboxItem]) -> None:
        self._held.difference_update(x.id or 0 for x in (item, *release))
        self._on_failure(item.kind)
        attempts = item.attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:2000]
        dead = attempts >= self._max_attempts
        values = {
            "attempts": attempts,
            "last_error": error,
            "claimed_until": None,
            "claimed_by": None,
            "next_attempt_at": self._clock() + backoff(attempts, self._max_backoff),
            "status": OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
        }
        async with self._sessions() as session, session.begin():
            await session.exec(
                update(OutboxItem).where(col(OutboxItem.id) == item.id).values(**values)
            )
            if release:
                await session.exec(_unclaimed(release))
            if dead:
                audit(
                    session,
                    item.case_id,
                    "delivery.dead",
                    "casebot",
                    outbox_id=item.id,
                    kind=item.kind,
                    error=error,
                )
        fields = {"case": item.case_id, "outbox_id": item.id, "kind": item.kind}
        if dead:
            log.error(
                "gave up on outbox item %s (%s) after %s attempts: %s",
                item.id,
                item.kind,
                attempts,
                error,
                extra=fields,
            )
        else:
            log.warning(
                "outbox item %s (%s) failed, attempt %s: %s",
                item.id,
                item.kind,
                attempts,
                error,
                extra=fields,
            )


def _unclaimed(rows: list[OutboxItem]) -> Update:
    """Give `rows` back for the next pass, as they were (no attempt counted, no backoff)."""
    return (
        update(OutboxItem)
        .where(col(OutboxItem.id).in_([row.id for row in rows]))
        .values(claimed_until=None, claimed_by=None)
    )


def _due(now: datetime) -> ColumnElement[bool]:
    """A pending row that is not waiting, and whose key has no earlier row still waiting
    (leased elsewhere or backing off): rows of one key go in id order."""
    earlier = aliased(OutboxItem)
    return and_(
        col(OutboxItem.status) == OutboxStatus.PENDING,
        ~_waiting(OutboxItem, now),
        ~exists().where(
            col(earlier.ordering_key) == col(OutboxItem.ordering_key),
            col(earlier.status) == OutboxStatus.PENDING,
            col(earlier.id) < col(OutboxItem.id),
            _waiting(earlier, now),
        ),
    )


def _waiting(item: type[OutboxItem], now: datetime) -> ColumnElement[bool]:
    """The row is not due: another process holds it, or it backs off after a failure."""
    return or_(
        and_(col(item.claimed_until).is_not(None), col(item.claimed_until) > now),
        and_(col(item.next_attempt_at).is_not(None), col(item.next_attempt_at) > now),
    )


@dataclass(frozen=True)
class Step:
    """One delivery standing for one or more rows of a key."""

    item: OutboxItem
    superseded: bool
    rows: list[OutboxItem]


def plan(group: list[OutboxItem]) -> list[Step]:
    """How to deliver one key's due rows, in order, with as few posts as say the same.

    A card render shows the case as it is at delivery, so of several renders only the first
    (it may be the card's first post, which the thread needs) and the last count: the last
    goes at the end and stands for the ones between. Consecutive thread mirrors, then side by
    side, go as one post (a "batch" payload), up to MERGE_MAX_ITEMS and about
    MERGE_MAX_CHARS.
    """
    cards = [row for row in group if row.kind in COALESCING_KINDS]
    first_card, last_card = (cards[0], cards[-1]) if len(cards) > 1 else (None, None)
    steps: list[Step] = []
    mirrors: list[OutboxItem] = []

    def flush() -> None:
        if mirrors:
            steps.append(Step(merged(mirrors), False, list(mirrors)))
            mirrors.clear()

    for row in group:
        if last_card is not None and row.kind in COALESCING_KINDS and row is not first_card:
            continue  # rendered once, by the last render, at the end
        if row.kind in MERGEABLE_KINDS:
            size = sum(len(str(m.payload.get("text", ""))) for m in (*mirrors, row))
            if len(mirrors) >= MERGE_MAX_ITEMS or (mirrors and size > MERGE_MAX_CHARS):
                flush()
            mirrors.append(row)
            continue
        flush()
        steps.append(Step(row, row is first_card, [row]))
    flush()
    if last_card is not None:
        between = [row for row in cards if row is not first_card and row is not last_card]
        steps.append(Step(last_card, False, [last_card, *between]))
    return steps


def merged(rows: list[OutboxItem]) -> OutboxItem:
    """One delivery standing for several mirrors: the first row, every payload in `batch`."""
    if len(rows) == 1:
        return rows[0]
    return rows[0].model_copy(update={"payload": {"batch": [row.payload for row in rows]}})

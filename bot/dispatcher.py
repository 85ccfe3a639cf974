"""The outbox runner: delivers pending rows with retries and backoff, in order per case.

A row is leased before delivery and marked done right after, so a crash delays a delivery
(at least once) and never loses it. Rows of one ordering key go strictly in id order: a
failed row holds back the rows written after it until it succeeds or is given up. Slack's
rows and every other channel's are claimed in two lanes, each pass by pass: a pass waits for
its slowest delivery, and a storm's posts waiting for Slack's pace hold back no mail.

Several processes may dispatch from one PostgreSQL (storage/outbox_queries.py serialises
the claims). A process renews the leases of the rows it holds while it delivers them, so a
slow delivery keeps its rows, and a dead process's rows are free again one lease later. The
rules (what coalesces, what merges, how long to wait) are services/outbox/plan.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from bot.tasks import sleep_unless
from services.outbox import DeliveryDeferred, NoSender, Undeliverable
from services.outbox.ledger import Ledger
from services.outbox.plan import backoff, plan
from services.types import Channel
from storage.engine import SessionFactory
from storage.models import OutboxItem, utcnow
from storage.outbox_queries import Lane

log = logging.getLogger(__name__)

Deliver = Callable[[OutboxItem, bool], Awaitable[None]]

# Slack is paced (about one post per second per channel), mail and webhooks are not: a storm's
# thread posts must not make its acknowledgements wait. A key's rows stay in order across
# lanes (storage/outbox_queries.due).
#
# Slack's posts wait for its pace, not for this process, so a pass sends all of them at once.
# Mail and webhooks cost this process's own time (composing, counting against the caps,
# marking done): a few at a time leaves the event loop to intake, so a storm is stored first
# and acknowledged right behind (tests/bench/email_storm: stored in 16 s instead of 25 s,
# acknowledged in the same 26 s), and a kill finds at most that many sent but not yet
# marked done (each is sent again, tests/e2e/test_storm_crash.py).
MAIL_AT_ONCE = 8
LANES = (
    Lane("slack", frozenset({Channel.SLACK.value})),
    Lane("other", frozenset({Channel.SLACK.value}), others=True, at_once=MAIL_AT_ONCE),
)


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
        wakeup: asyncio.Event | None = None,
        on_failure: Callable[[str], None] = lambda _kind: None,
        lanes: Sequence[Lane] = LANES,
    ) -> None:
        self._ledger = Ledger(sessions, clock, holder, lease)
        self._deliver = deliver
        self._batch = batch
        self._lease = lease
        self._delivery_timeout = delivery_timeout
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff.total_seconds()
        self._idle_poll = idle_poll_seconds
        self._min_gap = min_gap_seconds
        self._wakeup = wakeup if wakeup is not None else asyncio.Event()
        self._lanes = [(lane, asyncio.Event()) for lane in lanes]
        self._held: set[int] = set()  # rows this process has leased and not settled yet
        self._stopping = asyncio.Event()
        self._on_failure = on_failure  # told the kind of each failed attempt (metrics)

    def stop(self) -> None:
        """Finish the pass in hand, then return from `run`; `release` gives back the rest."""
        self._stop_lanes()
        self._wakeup.set()

    def wake(self) -> None:
        """Something was committed to the outbox: look now rather than at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        """Deliver until `stop`, one claim loop per lane; the leases of rows in delivery are
        renewed meanwhile."""
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._keep_leases(), name="outbox-leases")
                for lane, event in self._lanes:
                    tasks.create_task(self._run_lane(lane, event), name=f"outbox-{lane.name}")
                while not self._stopping.is_set():  # every lane hears every wake-up
                    await self._wakeup.wait()
                    self._wakeup.clear()
                    for _, event in self._lanes:
                        event.set()
        finally:
            self._stop_lanes()

    def _stop_lanes(self) -> None:
        self._stopping.set()
        for _, event in self._lanes:
            event.set()

    async def _run_lane(self, lane: Lane, wakeup: asyncio.Event) -> None:
        """Passes over one lane's rows: a pass waits for its slowest delivery (a post waiting
        for Slack's pace), and only that lane's next pass waits with it."""
        while not self._stopping.is_set():
            wakeup.clear()
            try:
                delivered = await self.drain_once(lane)
            except Exception:
                log.exception("outbox pass (%s) failed; retrying", lane.name)
                delivered = 0
            if delivered == 0 and not self._stopping.is_set():
                await sleep_unless(wakeup, self._idle_poll)
            # Under a burst every commit wakes the dispatcher; a claim is a query over
            # every pending row, so passes are spaced a little and wake-ups coalesce.
            await asyncio.sleep(self._min_gap)

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
        return await self._ledger.renew(held) if held else 0

    async def drain_once(self, lane: Lane | None = None) -> int:
        """One pass: claim due rows (of `lane`, or of every lane), deliver each key's rows in
        order, the lane's `at_once` keys at a time. Returns rows attempted."""
        groups = await self.claim(lane)
        at_once = lane.at_once if lane is not None and lane.at_once else len(groups) or 1
        slots = asyncio.Semaphore(at_once)

        async def in_turn(group: list[OutboxItem]) -> None:
            async with slots:
                await self._deliver_group(group)

        await asyncio.gather(*(in_turn(group) for group in groups))
        return sum(len(group) for group in groups)

    async def claim(self, lane: Lane | None = None) -> list[list[OutboxItem]]:
        """Lease every due row (of `lane`, or of every lane) whose key has no earlier row still
        waiting (leased elsewhere or backing off), grouped by key in id order."""
        rows = await self._ledger.claim(self._batch, lane)
        self._held.update(row.id for row in rows if row.id is not None)
        groups: dict[str, list[OutboxItem]] = {}
        for row in rows:
            groups.setdefault(row.ordering_key, []).append(row)
        return list(groups.values())

    async def pending(self) -> int:
        """Rows not delivered yet (for shutdown and tests)."""
        return await self._ledger.pending()

    async def due(self) -> int:
        """Rows the next pass would claim (not backing off, not held, not behind one that is)."""
        return await self._ledger.due()

    async def _deliver_group(self, group: list[OutboxItem]) -> None:
        steps = plan(group)
        for index, step in enumerate(steps):
            later = [row for rest in steps[index + 1 :] for row in rest.rows]
            try:
                await asyncio.wait_for(
                    self._deliver(step.item, step.superseded), timeout=self._delivery_timeout
                )
            except DeliveryDeferred as deferred:
                self._settled(*step.rows, *later)
                await self._ledger.deferred(step.rows, deferred.seconds, release=later)
                log.debug(
                    "outbox items %s deferred %.1f s: %s",
                    self._ids(step.rows),
                    deferred.seconds,
                    deferred,
                )
                return
            except (NoSender, Undeliverable) as exc:  # retrying cannot help
                await self._failed(step.rows[0], exc, release=step.rows[1:] + later, final=True)
                return
            except Exception as exc:  # any failure is retried; none may kill the dispatcher
                await self._failed(step.rows[0], exc, release=step.rows[1:] + later)
                return
            self._settled(*step.rows)
            await self._ledger.done(step.rows)
            for row in step.rows:
                log.debug(
                    "outbox item %s (%s) delivered",
                    row.id,
                    row.kind,
                    extra={"case": row.case_id, "outbox_id": row.id, "kind": row.kind},
                )

    async def release(self) -> int:
        """On an orderly stop: give back the leases of rows not delivered, for the next process.

        (After a crash the lease simply expires.)
        """
        held, self._held = list(self._held), set()
        if held:
            await self._ledger.release(held)
        return len(held)

    @staticmethod
    def _ids(rows: list[OutboxItem]) -> list[int | None]:
        return [row.id for row in rows]

    def _settled(self, *rows: OutboxItem) -> None:
        self._held.difference_update(row.id or 0 for row in rows)

    async def _failed(
        self, item: OutboxItem, exc: Exception, *, release: list[OutboxItem], final: bool = False
    ) -> None:
        self._settled(item, *release)
        self._on_failure(item.kind)
        attempts = item.attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:2000]
        dead = final or attempts >= self._max_attempts
        await self._ledger.failed(
            item,
            error,
            attempts=attempts,
            retry_in=backoff(attempts, self._max_backoff),
            dead=dead,
            release=release,
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

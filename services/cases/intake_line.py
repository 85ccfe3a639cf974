"""Customer messages waiting for their database pass are taken together (group commit).

One transaction stores a whole group, each message in a savepoint of its own, so one that
fails is rolled back alone and the rest commit. Per message, a transaction costs as much
event-loop time as the work in it; a burst of hundreds (a storm, a backlog, a busy hour in
Slack) now pays for one per group. A lone message is a group of one and goes through at once.

A message that opens a case while triage is on is set aside: it is classified outside any
transaction (a model call must not hold database locks), all set-aside messages of a group
together so the encoder batches them, then comes back first in line with its answer. Its
customer's later messages wait behind it, so each customer's messages are stored in the
order they came. Nothing is answered before its group has committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from services.cases.senders import identities
from services.triage.service import Triage
from services.types import InboundMessage, IngestResult

log = logging.getLogger(__name__)

# Messages stored in one transaction at most: large enough that a burst pays for few
# transactions, small enough that SQLite's write lock is not held for long (other writers,
# an agent's click, wait for it).
GROUP = 32


class NeedsTriage(Exception):
    """Raised by a message's pass: it opens a case; classify it, then pass it again."""


Pass = Callable[[AsyncSession, InboundMessage, Triage | None], Awaitable[IngestResult]]
# Called first in each group's transaction, told whether a message in it opens a case.
Begin = Callable[[AsyncSession, bool], Awaitable[None]]
# Told a group's unclassified messages, says of each whether it certainly opens a case (a
# sender never seen): those are classified before their pass, which then runs only once.
Screen = Callable[[AsyncSession, list[InboundMessage]], Awaitable[list[bool]]]
Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@dataclass(eq=False)
class Waiting:
    """A message in line, and the caller waiting for what became of it."""

    inbound: InboundMessage
    done: asyncio.Future[IngestResult]
    triage: Triage | None = None

    def answer(self, result: IngestResult) -> None:
        if not self.done.done():  # a caller that gave up (cancelled) wants nothing
            self.done.set_result(result)

    def fail(self, error: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(error)


def customer_of(inbound: InboundMessage) -> tuple[tuple[str, str], ...]:
    """Whose message this is, for keeping each customer's messages in order."""
    return tuple(identities(inbound))


class IntakeLine:
    """The line messages wait in; one group at a time goes through the database."""

    def __init__(
        self,
        transaction: Transaction,
        one: Pass,
        classify: Callable[[str], Awaitable[Triage]],
        *,
        begin: Begin | None = None,
        screen: Screen | None = None,
        group: int = GROUP,
    ) -> None:
        self._transaction = transaction
        self._one = one
        self._classify = classify
        self._begin = begin
        self._screen = screen
        self._group = group
        self._queue: deque[Waiting] = deque()
        # customer -> their messages behind one that is out being classified, in order
        self._held: dict[tuple[tuple[str, str], ...], list[Waiting]] = {}
        self._runner: asyncio.Task[None] | None = None
        self._classifying: set[asyncio.Task[None]] = set()

    async def submit(self, inbound: InboundMessage) -> IngestResult:
        """Store `inbound` with whatever else is waiting; its result once committed."""
        item = Waiting(inbound, asyncio.get_running_loop().create_future())
        self._enqueue([item])
        return await item.done

    def _enqueue(self, items: Iterable[Waiting], *, first: bool = False) -> None:
        queued = []
        for item in items:
            held = self._held.get(customer_of(item.inbound))
            if held is not None:
                held.append(item)
            else:
                queued.append(item)
        if first:
            self._queue.extendleft(reversed(queued))
        else:
            self._queue.extend(queued)
        if self._queue and (self._runner is None or self._runner.done()):
            self._runner = asyncio.create_task(self._run(), name="intake-line")

    async def _run(self) -> None:
        while self._queue:
            group = [self._queue.popleft() for _ in range(min(self._group, len(self._queue)))]
            aside: list[Waiting] = []
            try:
                await self._store(group, aside)
            except Exception as error:  # the transaction itself failed: nothing of it stored
                log.debug("intake group of %d failed: %s", len(group), error)
                self._failed(group, aside, error)
                continue
            if aside:
                task = asyncio.create_task(self._classify_aside(aside), name="intake-triage")
                self._classifying.add(task)
                task.add_done_callback(self._classifying.discard)

    async def _store(self, group: list[Waiting], aside: list[Waiting]) -> None:
        """One transaction for the group; the messages set aside for triage go to `aside`."""
        stored: list[tuple[Waiting, IngestResult]] = []
        async with self._transaction() as session:
            if self._begin is not None:
                await self._begin(session, any(item.triage is not None for item in group))
            unclassified = [item for item in group if item.triage is None]
            opens = set()
            if self._screen is not None and unclassified:
                said = await self._screen(session, [item.inbound for item in unclassified])
                opens = {item for item, yes in zip(unclassified, said, strict=True) if yes}
            for item in group:
                customer = customer_of(item.inbound)
                if customer in self._held:  # behind their message that is out for triage
                    self._held[customer].append(item)
                    continue
                try:
                    if item in opens:
                        raise NeedsTriage()
                    result = await self._one(session, item.inbound, item.triage)
                except NeedsTriage:
                    self._held[customer] = []
                    aside.append(item)
                except Exception as error:  # rolled back to its savepoint: this one alone
                    log.warning("message %s not stored: %r", item.inbound.external_id, error)
                    item.fail(error)
                else:
                    stored.append((item, result))
        for item, result in stored:
            item.answer(result)

    def _failed(self, group: list[Waiting], aside: list[Waiting], error: Exception) -> None:
        """The group's callers get the error (theirs to retry); messages that came later
        for a customer this group had set aside wait no more. A message of the group that
        waits behind an earlier group's message out for triage was not in this transaction:
        it keeps waiting."""
        mine = set(group)
        later = []
        for item in aside:
            later += [w for w in self._held.pop(customer_of(item.inbound), []) if w not in mine]
        still_held = {w for behind in self._held.values() for w in behind}
        for item in group:
            if item not in still_held:
                item.fail(error)
        self._enqueue(later, first=True)

    async def _classify_aside(self, aside: list[Waiting]) -> None:
        """Classify the set-aside messages together, then put them, and the messages their
        customers sent meanwhile, first in line."""
        answers = await asyncio.gather(
            *(self._classify(item.inbound.body) for item in aside), return_exceptions=True
        )
        back: list[Waiting] = []
        for item, answer in zip(aside, answers, strict=True):
            behind = self._held.pop(customer_of(item.inbound), [])
            if isinstance(answer, BaseException):
                item.fail(answer)
            else:
                item.triage = answer
                back.append(item)
            back += behind
        self._enqueue(back, first=True)

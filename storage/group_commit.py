"""Small writes made at the same moment share one transaction (group commit).

A transaction costs a begin, a commit and, on SQLite, a turn at the one writer, whatever it
holds. Each acknowledgement of a storm counts itself against the mail caps before it is sent
(services/sent_mail.py), one transaction each, beside the storm's own writes. Here every
write waiting when a transaction starts goes into it, and each caller hears its own result
only once that transaction has committed. A lone write goes through at once: nothing waits
for company.

Not for the outbox's done marks: a mark that waits for its group is a delivery a crash would
repeat (tests/e2e/test_storm_crash.py saw re-sent acknowledgements rise from ≤ 5 to > 50).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.engine import SessionFactory

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[T]]

# Writes in one transaction at most: enough that a burst pays for few, few enough that the
# SQLite writer is not held long (an agent's click waits for it).
GROUP = 64


@dataclass(eq=False)
class _Waiting(Generic[T]):
    work: Work[T]
    done: asyncio.Future[T]

    def answer(self, result: T) -> None:
        if not self.done.done():  # a caller that gave up (cancelled) wants nothing
            self.done.set_result(result)

    def fail(self, error: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(error)


class GroupCommit:
    """Runs writes in shared transactions, one transaction at a time, in the order given."""

    def __init__(self, sessions: SessionFactory, *, group: int = GROUP) -> None:
        self._sessions = sessions
        self._group = group
        self._queue: deque[_Waiting[Any]] = deque()
        self._runner: asyncio.Task[None] | None = None

    async def run(self, work: Work[T]) -> T:
        """`work`'s result once its transaction has committed. `work` runs in a savepoint of
        its own: its error fails only its caller, the rest of the group commits."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        waiting = _Waiting(work, done)
        self._queue.append(waiting)
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="group-commit")
        return await waiting.done

    async def _run(self) -> None:
        while self._queue:
            group = [self._queue.popleft() for _ in range(min(self._group, len(self._queue)))]
            try:
                results = await self._commit(group)
            except Exception as error:  # the transaction failed: nothing of it was written
                log.debug("group of %d writes failed: %r", len(group), error)
                for waiting in group:
                    waiting.fail(error)
                continue
            for waiting, (result, failure) in zip(group, results, strict=True):
                if failure is not None:
                    waiting.fail(failure)
                else:
                    waiting.answer(result)

    async def _commit(self, group: list[_Waiting[Any]]) -> list[tuple[Any, Exception | None]]:
        results: list[tuple[Any, Exception | None]] = []
        async with self._sessions() as session, session.begin():
            for waiting in group:
                try:
                    async with session.begin_nested():
                        results.append((await waiting.work(session), None))
                except Exception as error:  # rolled back to its savepoint: this one alone
                    results.append((None, error))
        return results

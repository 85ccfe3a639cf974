"""Change notification for `wait_for`.

Semantically an asyncio.Condition whose notify needs no lock: state is
mutated from plain (sync) methods, and a Condition would force every mutator
to be async. Waiters park on a future; `notify()` wakes them all; they then
re-evaluate their predicate. Nothing ever polls or sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class ChangeSignal:
    """Wakes every waiter whenever the emulator's state changes."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []
        self.version = 0  # counts changes, so a reader can ask "anything since version N?"

    def notify(self) -> None:
        """Wake all current waiters (safe to call from sync code)."""
        self.version += 1
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait(self) -> None:
        """Block until the next `notify()`."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        await fut

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109 - part of the public interface
        describe: Callable[[], str] | None = None,
    ) -> T:
        """Return the first truthy `predicate()`, re-checked after each change."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    result = predicate()
                    if result:
                        return result
                    await self.wait()
        except TimeoutError:
            name = getattr(predicate, "__qualname__", repr(predicate))
            detail = f"; {describe()}" if describe is not None else ""
            raise TimeoutError(
                f"wait_for: predicate {name} still falsy after {timeout}s{detail}"
            ) from None

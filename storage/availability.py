"""The database being away (restarting, failing over, locked too long) is not a bug: work
that can wait is retried with backoff, and callers that cannot wait fail clearly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")


def unavailable(error: BaseException) -> bool:
    """True when `error` means "the database cannot be reached or used right now"."""
    if isinstance(error, OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


async def retrying(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    within: float = 300.0,
    first_delay: float = 0.5,
    max_delay: float = 10.0,
) -> T:
    """`call()`, tried again while the database is unavailable, for up to `within` seconds
    (then the last error is raised). Any other error is raised at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    delay = first_delay
    while True:
        try:
            return await call()
        except Exception as error:
            if not unavailable(error) or loop.time() + delay > deadline:
                raise
            log.warning("%s: database unavailable (%s); retrying in %.1f s", what, error, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)

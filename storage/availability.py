"""The database being away (restarting, failing over, locked too long) is not a bug: work
that can wait is retried with backoff, and callers that cannot wait fail clearly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")


def unavailable(error: BaseException) -> bool:
    """True when `error` means "the database cannot be reached or used right now".

    A connection pool with no connection free within its timeout counts: a burst of
    customer messages (600 at once on PostgreSQL) queued past it, and the ones that timed
    out were dropped after their ack instead of waiting their turn."""
    if isinstance(error, OperationalError | InterfaceError | OSError | TimeoutError | PoolTimeout):
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


def describe_failure(url: str, error: BaseException) -> str:
    """One line saying why the database at `url` could not be used: where (never the
    password) and the driver's reason, its first line only."""
    try:
        where = make_url(url)
        place = f"{where.get_backend_name()} at {where.host or 'localhost'}"
        place += f":{where.port}" if where.port else ""
        place += f"/{where.database}" if where.database else ""
        secret = where.password
    except Exception:  # not even a URL: say that much
        return "DATABASE_URL: not a database URL"
    cause: BaseException = error
    while isinstance(cause, DBAPIError) and cause.orig is not None:
        cause = cause.orig  # the driver's own error says it best
    reason = (str(cause).strip().splitlines() or [""])[0][:200] or type(cause).__name__
    if secret:
        reason = reason.replace(str(secret), "***")
    if where.get_backend_name() == "sqlite":
        place = f"sqlite file {where.database}"
    return f"DATABASE_URL: cannot use the {place} ({type(cause).__name__}: {reason})"

"""Stopping background loops: each is asked to stop and given a grace to finish its step."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging

log = logging.getLogger(__name__)


async def finish(task: asyncio.Task[None], *, within: float) -> None:
    """Let `task` return on its own; cancel it only if it overstays."""
    done, _ = await asyncio.wait({task}, timeout=within)
    if not done:
        where = io.StringIO()
        task.print_stack(file=where)
        log.warning(
            "%s did not stop within %s s; cancelling it\n%s",
            task.get_name(),
            within,
            where.getvalue(),
        )
        task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:  # stopping goes on; the error is the task's, logged here once
        log.exception("%s stopped with an error", task.get_name())


async def sleep_unless(event: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `event` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)

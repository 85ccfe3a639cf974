"""The SIGTERM steps the SDKs do not offer: finish the envelopes in hand, flush the outbox.

slack_sdk's Socket Mode client runs each envelope's listeners in a task it does not keep,
and Bolt runs each listener in another (it acks, then goes on). Closing the client stops new
envelopes but leaves those tasks running; an envelope already acked is this process's to
finish, or Slack never sends it again. So they are found by their coroutine's name (the
SDKs' own functions) and awaited, within a grace.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.dispatcher import OutboxDispatcher

log = logging.getLogger(__name__)

# slack_sdk.socket_mode.async_client.AsyncBaseSocketModeClient.run_message_listeners and
# the closure slack_bolt.listener.asyncio_runner.AsyncioListenerRunner.run starts per listener.
LISTENER_COROUTINES = frozenset({"run_message_listeners", "run_ack_function_asynchronously"})


def listeners_in_flight() -> set[asyncio.Task[object]]:
    """The tasks still handling envelopes that were received before the socket closed."""
    found = set()
    for task in asyncio.all_tasks():
        coro = task.get_coro()
        if not task.done() and getattr(coro, "__name__", "") in LISTENER_COROUTINES:
            found.add(task)
    return found


async def finish_listeners(*, within: float) -> None:
    """Wait for the envelopes in hand (and any they lead to) to be handled."""
    deadline = time.monotonic() + within
    while (tasks := listeners_in_flight()) and (left := deadline - time.monotonic()) > 0:
        await asyncio.wait(tasks, timeout=left)
    if tasks:
        log.warning("%s envelope(s) still in hand after %s s; left unfinished", len(tasks), within)


async def flush_outbox(dispatcher: OutboxDispatcher, *, within: float) -> None:
    """Let the running dispatcher deliver what is due (rows backing off after a failure
    wait for the next start); the deliveries in hand finish when it is stopped."""
    deadline = time.monotonic() + within
    try:
        while await dispatcher.due() and time.monotonic() < deadline:
            dispatcher.wake()
            await asyncio.sleep(0.05)
    except Exception as error:  # the database is gone: what is due waits for the next start
        log.warning("outbox not flushed, the database did not answer: %r", error)

"""Edge helpers: per-author ordering and message routing, without Slack."""

from __future__ import annotations

import asyncio

from handlers.slack.ordering import KeyedLocks
from handlers.slack.routing import Channels, Route, route_message

CHANNELS = Channels(support="CSUP", alerts="CALR", log="CLOG", intake=frozenset({"CIN"}))


async def test_one_key_runs_in_arrival_order_other_keys_do_not_wait() -> None:
    locks = KeyedLocks()
    done: list[str] = []
    release_first, first_holds = asyncio.Event(), asyncio.Event()

    async def work(key: str, name: str, wait: asyncio.Event | None = None) -> None:
        async with locks.hold(key):
            if wait is not None:
                first_holds.set()
                await wait.wait()
            done.append(name)

    first = asyncio.create_task(work("U1", "u1-first", release_first))
    await asyncio.wait_for(first_holds.wait(), timeout=5)
    second = asyncio.create_task(work("U1", "u1-second"))
    other = asyncio.create_task(work("U2", "u2"))
    await other
    assert done == ["u2"], "another author is not held up"
    release_first.set()
    await asyncio.gather(first, second)
    assert done == ["u2", "u1-first", "u1-second"]
    assert len(locks) == 0, "locks are dropped when unused"


def message(**fields: object) -> dict[str, object]:
    return {"type": "message", "user": "U1", "ts": "1.0", **fields}


def test_routing() -> None:
    assert route_message(message(channel="CIN"), CHANNELS) is Route.CUSTOMER
    assert route_message(message(channel="CIN", thread_ts="0.5"), CHANNELS) is Route.CUSTOMER
    assert route_message(message(channel="D1", channel_type="im"), CHANNELS) is Route.CUSTOMER
    assert route_message(message(channel="CSUP", thread_ts="0.5"), CHANNELS) is Route.CARD_THREAD
    assert route_message(message(channel="CSUP"), CHANNELS) is Route.IGNORE  # top level
    assert route_message(message(channel="CRANDOM"), CHANNELS) is Route.IGNORE
    assert route_message(message(channel="CIN", bot_id="B1"), CHANNELS) is Route.IGNORE
    assert (
        route_message(message(channel="CIN", subtype="message_changed"), CHANNELS) is Route.IGNORE
    )
    assert route_message(message(channel="CIN", subtype="file_share"), CHANNELS) is Route.CUSTOMER
    assert route_message({"type": "message", "channel": "CIN", "ts": "1"}, CHANNELS) is Route.IGNORE

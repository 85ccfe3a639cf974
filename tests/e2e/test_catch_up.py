"""Issue 16, item 7: customers' Slack messages the bot acked but never stored (it died while
they waited for the database) are read back at the next start, each stored once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlmodel import col, select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from storage.models import Message
from tests.e2e.conftest import AGENT, CUSTOMER, INTAKE, OTHER_CUSTOMER, card


def lost(slack: SlackEmulator, user: str, channel: str, text: str, **extra: Any) -> str:
    """A message Slack has, whose event the bot acked and then lost with its process."""
    ws = slack.workspace
    ts = ws.next_ts()
    message = {"type": "message", "user": user, "text": text, "ts": ts, "team": ws.team_id}
    ws.store_message(channel, {**message, **extra})
    return ts


async def stored(bot: Runtime) -> list[str]:
    async with bot.sessions() as session:
        rows = await session.exec(select(Message).order_by(col(Message.id)))
        return [m.body for m in rows.all() if m.source == "slack"]


async def test_messages_acked_but_never_stored_are_read_back_once(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    first: Runtime = await start_bot(triage_local_model=False)
    dm = slack.open_dm(OTHER_CUSTOMER)
    await slack.user_message(CUSTOMER, INTAKE, "My card was charged twice")
    await slack.user_message(OTHER_CUSTOMER, dm, "Where is my parcel?")
    opened = await card(slack, 2)
    assert opened
    await first.stop()

    parent = lost(slack, CUSTOMER, INTAKE, "It happened again today")
    lost(slack, CUSTOMER, INTAKE, "and once more", thread_ts=parent)
    lost(slack, OTHER_CUSTOMER, dm, "Hello? Any news?")
    lost(slack, AGENT, INTAKE, "(an agent chatting: not a customer)")
    lost(slack, "UBOT", INTAKE, "a bot's own post", bot_id="BBOT")

    second: Runtime = await start_bot(triage_local_model=False)
    expected = [
        "My card was charged twice",
        "Where is my parcel?",
        "It happened again today",
        "and once more",
        "Hello? Any news?",
    ]
    await slack.wait_for(lambda: len(slack.calls_to("conversations.replies")) > 0 or None)
    async with asyncio.timeout(20):
        while sorted(await stored(second)) != sorted(expected):  # noqa: ASYNC110 - the database
            await asyncio.sleep(0.05)
    await second.stop()

    histories = len(slack.calls_to("conversations.history"))
    third: Runtime = await start_bot(triage_local_model=False)  # reads back again: no-ops
    await slack.wait_for(
        lambda: len(slack.calls_to("conversations.history")) >= histories + 2 or None
    )
    await third.dispatcher.drain_once()
    assert sorted(await stored(third)) == sorted(expected), "each stored once"

    lost(slack, CUSTOMER, INTAKE, "a reply in the old thread", thread_ts=parent)
    await third.stop()
    fourth: Runtime = await start_bot(triage_local_model=False)
    async with asyncio.timeout(20):
        while "a reply in the old thread" not in await stored(fourth):  # noqa: ASYNC110
            await asyncio.sleep(0.05)

"""Issue 5: Socket Mode `disconnect` messages and dropped websockets while customers write.

Slack asks clients to reconnect (`warning`, `refresh_requested`) and connections die
without a close frame. The emulator does what Slack does: no envelopes for a draining
connection, and an envelope whose connection went away before its ack is sent again on
another one. The bot must reconnect each time, and every message must be stored and
mirrored exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from storage.models import Message
from tests.e2e.conftest import INTAKE, cards, mirrored

CUSTOMERS = ("UWAVE1", "UWAVE2", "UWAVE3")
PER_CUSTOMER = 12


async def test_reconnects_lose_and_double_no_envelope(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    for user in CUSTOMERS:
        slack.add_user(user, user.lower())
    bot: Runtime = await start_bot(socket_mode_ping_interval=0.5)
    await bot.triage_ready()
    connections = slack.connections_total

    async def customer(user: str) -> None:
        for n in range(PER_CUSTOMER):
            await slack.user_message(user, INTAKE, f"{user}: printer {n} is jammed", timeout=30)
            await asyncio.sleep(0.05)  # pacing: messages keep arriving through every fault

    writing = asyncio.gather(*(customer(user) for user in CUSTOMERS))
    for fault in ("warning", "refresh_requested", "abrupt", "close"):
        await asyncio.sleep(0.4)  # pacing: some messages land between two faults
        if fault in ("warning", "refresh_requested"):
            await slack.send_disconnect(fault)
        else:
            await slack.drop_sockets(abrupt=fault == "abrupt")
        await slack.wait_connected(timeout=10)
    await asyncio.wait_for(writing, timeout=60)
    assert slack.connections_total >= connections + 4, "one reconnect per fault"

    texts = [f"{user}: printer {n} is jammed" for user in CUSTOMERS for n in range(PER_CUSTOMER)]
    for _ in range(200):
        async with bot.sessions() as session:
            stored = [m.body for m in (await session.exec(select(Message))).all()]
        seen = mirrors(slack)
        if len(stored) >= len(texts) and sum(seen.values()) >= len(texts):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # anything processed twice would show up by now
    assert sorted(stored) == sorted(texts), "every message stored once"
    assert mirrors(slack) == Counter(texts), "every message mirrored once"
    # Every envelope was acked; one sent again after its socket died may be acked twice
    # (Slack's retry): the bot still handled it once, as the counts above show.
    acked = {ack.envelope_id for ack in slack.acks}
    assert {e["envelope_id"] for e in slack.envelopes} <= acked


def mirrors(slack: SlackEmulator) -> Counter[str]:
    """Customer messages mirrored into the card threads, by text."""
    return Counter(text for card in cards(slack) for text in mirrored(slack, card["ts"]))

"""Issue 5: Socket Mode `disconnect` messages and dropped websockets while customers write.

Slack asks clients to reconnect (`warning`, `refresh_requested`) and connections die
without a close frame. The emulator does what Slack does: no envelopes for a draining
connection, and an envelope whose connection went away before its ack is sent again on
another one. The bot must reconnect each time, and every message must be stored and
mirrored exactly once.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from bot.emulator import SlackEmulator
from bot.runtime import Runtime
from storage.models import Message
from tests.e2e.conftest import INTAKE, SUPPORT, cards

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
            await asyncio.sleep(0.05)

    writing = asyncio.gather(*(customer(user) for user in CUSTOMERS))
    for fault in ("warning", "refresh_requested", "abrupt", "close"):
        await asyncio.sleep(0.4)
        if fault in ("warning", "refresh_requested"):
            await slack.send_disconnect(fault)
        else:
            await slack.drop_sockets(abrupt=fault == "abrupt")
        await slack.wait_connected(timeout=10)
    await asyncio.wait_for(writing, timeout=60)
    assert slack.connections_total >= connections + 4, "one reconnect per fault"

    texts = [f"{user}: printer {n} is jammed" for user in CUSTOMERS for n in range(PER_CUSTOMER)]
    followups = [t for t in texts if "printer 0 " not in t]  # the first one is on the card
    for _ in range(200):
        async with bot.sessions() as session:
            stored = [m.body for m in (await session.exec(select(Message))).all()]
        mirrored = mirrors(slack)
        if len(stored) >= len(texts) and sum(mirrored.values()) >= len(followups):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # anything processed twice would show up by now
    assert sorted(stored) == sorted(texts), "every message stored once"
    assert mirrors(slack) == Counter(followups), "every later message mirrored once"
    acked = Counter(ack.envelope_id for ack in slack.acks)
    assert set(acked.values()) == {1}, "no envelope acked twice"


def mirrors(slack: SlackEmulator) -> Counter[str]:
    """Customer messages mirrored into the card threads, by text (a burst of messages may
    share one post)."""
    found: Counter[str] = Counter()
    for card in cards(slack):
        for reply in slack.replies(SUPPORT, card["ts"])[1:]:
            found.update(re.findall(r"UWAVE\d: printer \d+ is jammed", reply.get("text", "")))
    return found

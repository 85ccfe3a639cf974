"""Issue 5: Claude slow or failing. After a few slow calls the breaker opens and intake runs
on the local classifier without waiting on Claude: nothing is sent to it, and each message
is stored in far less than Claude's timeout (a bot with no key is measured in the same test
for comparison; a ratio of the two is a benchmark's business, not a test's, since parallel
tests share the cores)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from storage.models import Message
from tests.fake_anthropic import SLOW, fake_anthropic

SAMPLES = 8
LLM_TIMEOUT = 1.0  # seconds; an intake that waited on Claude would take at least this


async def stored(bot: Runtime) -> int:
    async with bot.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(Message))).one())


async def intake_latencies(slack: SlackEmulator, bot: Runtime, prefix: str) -> list[float]:
    """Seconds from a customer's post to its message being stored, one customer at a time."""
    latencies = []
    for n in range(SAMPLES):
        user = f"U{prefix}{n}"
        slack.add_user(user, user.lower())
        before = await stored(bot)
        started = time.perf_counter()
        await slack.user_message(user, "CINTAKE1", f"My card payment {n} was declined twice")
        async with asyncio.timeout(30):
            while await stored(bot) <= before:  # noqa: ASYNC110 - the bot stores it, not us
                await asyncio.sleep(0.005)
        latencies.append(time.perf_counter() - started)
    return latencies


async def test_a_slow_claude_opens_the_breaker_and_intake_keeps_local_speed(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    local: Runtime = await start_bot()
    await local.triage_ready()
    baseline = statistics.median(await intake_latencies(slack, local, "LOCAL"))
    await local.stop()
    await slack.wait_for(lambda: not slack.hub.active, timeout=10)

    async with fake_anthropic() as fake:
        fake.default = SLOW
        fake.slow_seconds = 5.0
        bot: Runtime = await start_bot(
            anthropic_api_key="sk-test",
            anthropic_base_url=fake.base_url,
            llm_timeout_seconds=LLM_TIMEOUT,
        )
        await bot.triage_ready()
        assert bot.triager is not None and bot.triager.mode == "claude"
        opening = await intake_latencies(slack, bot, "OPEN")
        assert bot.triager.mode == "local (claude open)", "slow answers opened the breaker"
        calls = len(fake.requests)
        after = await intake_latencies(slack, bot, "AFTER")
        assert len(fake.requests) == calls, "an open breaker sends nothing to Claude"
    measured = statistics.median(after)
    assert measured < LLM_TIMEOUT / 2, (
        f"intake with the breaker open: median {measured * 1000:.0f} ms; "
        f"local only: {baseline * 1000:.0f} ms (while opening: {max(opening):.1f} s at worst)"
    )

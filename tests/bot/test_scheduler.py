"""The sweeps' scheduler: a stop never cancels a sweep in the middle of its work."""

from __future__ import annotations

import asyncio

from bot.scheduler import Sweeps


async def test_stop_lets_the_sweep_in_hand_finish() -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def sweep() -> int:
        started.set()
        await asyncio.sleep(0.2)  # a sweep that takes time: the stop must wait for it
        finished.set()
        return 1

    sweeps = Sweeps({"slow": sweep}, interval_seconds=3600)
    sweeps.start()
    await asyncio.wait_for(started.wait(), timeout=5)
    await sweeps.stop(within=5)
    assert finished.is_set()
    assert not sweeps.scheduler.running


async def test_a_sweep_that_overstays_is_cancelled_and_stop_returns() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def stuck() -> int:
        started.set()
        try:
            await asyncio.sleep(3600)  # stuck: only a cancel ends it
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 0

    sweeps = Sweeps({"stuck": stuck}, interval_seconds=3600)
    sweeps.start()
    await asyncio.wait_for(started.wait(), timeout=5)
    await asyncio.wait_for(sweeps.stop(within=0.2), timeout=5)
    assert cancelled.is_set()


async def test_stop_before_any_run_and_twice_is_harmless() -> None:
    async def sweep() -> int:
        return 0

    sweeps = Sweeps({"idle": sweep}, interval_seconds=3600)
    await sweeps.stop(within=1)  # never started
    sweeps.start()
    await sweeps.stop(within=1)
    await sweeps.stop(within=1)

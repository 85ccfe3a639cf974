"""Encoding: texts that arrive together are encoded together; start-up does not block; the
encoder leaves the event loop a core."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable

import numpy as np
import pytest

from services.triage.batching import MicroBatcher
from services.triage.catalog import Catalog
from services.triage.embeddings import Encoder, Vectors, serving_threads
from services.triage.service import Triager


async def until(check: Callable[[], bool], within: float = 5.0) -> None:
    """Wait until `check()` holds (the encoder and the loader run in other threads)."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - the condition is set in another thread
            await asyncio.sleep(0.005)


async def test_texts_waiting_during_a_batch_go_together_in_the_next() -> None:
    sizes: list[int] = []
    gate, encoding = threading.Event(), threading.Event()

    def encode(texts: list[str]) -> Vectors:
        encoding.set()
        gate.wait(5)  # the first batch runs until the others are queued
        sizes.append(len(texts))
        return np.array([[float(len(t))] for t in texts])

    batcher = MicroBatcher(encode, max_batch=8)
    first = asyncio.create_task(batcher.encode(["a"]))
    await until(encoding.is_set)  # the lone text's batch is running
    rest = [asyncio.create_task(batcher.encode(["b" * n, "c"])) for n in range(2, 8)]
    await until(lambda: len(batcher._queue) == len(rest))  # all six wait for the next batch
    gate.set()
    assert (await first).tolist() == [[1.0]]
    results = await asyncio.gather(*rest)
    assert [r.tolist() for r in results] == [[[float(n)], [1.0]] for n in range(2, 8)]
    assert sizes == [1, 8, 4], "a lone text at once, then the waiting ones up to max_batch"


async def test_a_failed_batch_fails_its_waiters_and_the_next_batch_runs() -> None:
    calls = 0

    def encode(texts: list[str]) -> Vectors:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("out of memory")
        return np.zeros((len(texts), 2))

    batcher = MicroBatcher(encode)
    failed = await asyncio.gather(batcher.encode(["x"]), return_exceptions=True)
    assert isinstance(failed[0], RuntimeError)
    assert (await batcher.encode(["y", "z"])).shape == (2, 2)


async def test_classifying_waits_for_the_model_that_is_still_loading(
    catalog: Catalog, encoder: Encoder
) -> None:
    loading, loaded = threading.Event(), threading.Event()

    def slow_load() -> Encoder:
        loading.set()
        loaded.wait(10)
        return encoder

    triager = Triager(catalog, urgent_keywords=(), encoder=slow_load)
    starting = asyncio.create_task(triager.start())
    await until(loading.is_set)
    assert triager.mode == "keywords (loading)"
    answer = asyncio.create_task(triager.classify("I was charged twice for one order"))
    await asyncio.sleep(0.1)  # time must pass: the text is still waiting after it
    assert not answer.done(), "intake waits for the model rather than get keyword rules"
    loaded.set()
    await starting
    assert (await answer).source == "local"


def test_the_encoder_leaves_one_core_to_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    assert serving_threads() == 3
    assert serving_threads(configured=2) == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert serving_threads() == 1, "one core: the encoder still gets a thread"

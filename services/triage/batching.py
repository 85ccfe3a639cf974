"""Micro-batching for the encoder: texts that arrive while a batch runs go in the next one.

A lone text is encoded at once (no added latency); under load, batches grow up to
`max_batch` and throughput approaches the model's batched rate instead of its one-at-a-time
rate. Encoding runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import numpy as np

from services.triage.embeddings import Vectors

Pending = tuple[list[str], asyncio.Future[Vectors]]


class MicroBatcher:
    def __init__(self, encode: Callable[[list[str]], Vectors], *, max_batch: int = 64) -> None:
        self._encode = encode
        self._max_batch = max_batch
        self._queue: list[Pending] = []
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0  # encodes run (for tests and benchmarks)

    async def encode(self, texts: Sequence[str]) -> Vectors:
        """The texts' embeddings, one row per text, computed with whatever else is waiting."""
        future: asyncio.Future[Vectors] = asyncio.get_running_loop().create_future()
        self._queue.append((list(texts), future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name="encoder-batches")
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch = self._take()
            texts = [text for chunk, _ in batch for text in chunk]
            try:
                vectors = await asyncio.to_thread(self._encode, texts)
            except Exception as error:  # every waiter hears of it; the next batch tries again
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            self.batches += 1
            bounds = np.cumsum([len(chunk) for chunk, _ in batch])[:-1]
            for (_, future), rows in zip(batch, np.split(vectors, bounds), strict=True):
                if not future.done():  # its caller may have given up
                    future.set_result(rows)

    def _take(self) -> list[Pending]:
        """The waiting requests, oldest first, up to max_batch texts (at least one request)."""
        taken: list[Pending] = []
        size = 0
        while self._queue and (not taken or size + len(self._queue[0][0]) <= self._max_batch):
            item = self._queue.pop(0)
            taken.append(item)
            size += len(item[0])
        return taken

"""Benchmark: local classification throughput against the model's raw encode rate.

Run: `.venv/bin/python -m tests.bench.triage_throughput [--texts 600]`. Prints one JSON line:
messages per second through `Triager.classify` one at a time and `Triager.classify_many`
in batches of 32, the raw `encode` rate of the same model on the same texts in the same
run (one at a time and batched), and the ratios, best of 3 interleaved rounds. A ratio
near 1 means triage adds almost nothing to the cost of embedding the text.

Texts: Banking77's test.csv (real customer messages, about 12 words each).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import time
from pathlib import Path

from services.triage.catalog import load_catalog
from services.triage.embeddings import MiniLMEncoder
from services.triage.service import Triager

DEFAULT_TEXTS = Path(__file__).resolve().parents[3] / "shared" / "data" / "banking77" / "test.csv"
BATCH = 32
ROUNDS = 3


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


async def measure(texts: list[str]) -> dict[str, object]:
    encoder = MiniLMEncoder(batch_size=BATCH)
    triager = Triager(load_catalog(), urgent_keywords=("urgent",), encoder=lambda: encoder)
    await triager.start()
    encoder.encode(texts[:BATCH])  # warm up both paths
    await triager.classify_many(texts[:BATCH])

    async def raw_single() -> None:
        for text in texts:
            encoder.encode([text])

    async def triage_single() -> None:
        for text in texts:
            await triager.classify(text)

    async def raw_batched() -> None:
        for i in range(0, len(texts), BATCH):
            encoder.encode(texts[i : i + BATCH])

    async def triage_batched() -> None:
        for i in range(0, len(texts), BATCH):
            await triager.classify_many(texts[i : i + BATCH])

    # Interleaved rounds, best of each: the machine's background load hits both sides alike.
    best: dict[str, float] = {}
    for _ in range(ROUNDS):
        for name, run in (
            ("raw_single", raw_single),
            ("triage_single", triage_single),
            ("raw_batched", raw_batched),
            ("triage_batched", triage_batched),
        ):
            started = time.perf_counter()
            await run()
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - started)
    raw_single_s, triage_single_s = best["raw_single"], best["triage_single"]
    raw_batched_s, triage_batched_s = best["raw_batched"], best["triage_batched"]

    return {
        "texts": len(texts),
        "single": {
            "triage_per_s": rate(len(texts), triage_single_s),
            "encode_per_s": rate(len(texts), raw_single_s),
            "ratio": round(raw_single_s / triage_single_s, 3),
        },
        f"batched_{BATCH}": {
            "triage_per_s": rate(len(texts), triage_batched_s),
            "encode_per_s": rate(len(texts), raw_batched_s),
            "ratio": round(raw_batched_s / triage_batched_s, 3),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=600)
    parser.add_argument("--file", type=Path, default=DEFAULT_TEXTS)
    args = parser.parse_args()
    with open(args.file, encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)][: args.texts]
    result = asyncio.run(measure(texts))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

"""Benchmark: suggested replies from similar resolved cases, on Banking77.

Run: `.venv/bin/python -m tests.bench.assist_suggest [--data ../shared/data/banking77]`.
History: train.csv (10,003 rows), each resolved with a fixed reply written per intent (the
label); held out: test.csv (3,080 rows). Prints JSON lines:

1. quality: how often the first suggestion, and any of the first three, came from history
   with the held-out row's label (targets: top-1 >= 0.93, beating a plain nearest neighbour
   on the same embeddings, which is printed alongside);
2. latency: one suggestion's p50/p99 (ms) with 10,000 and 100,000 resolved cases, and the
   memory the index holds (target: p99 <= 100 ms at 100,000). The larger history is the
   train split's vectors repeated with small noise: the same answers, ten times the rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

from services.assist.reply_index import ReplyIndex
from services.triage.embeddings import MiniLMEncoder, Vectors

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "banking77"
QUERIES = 1000


def read(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def reply_for(intent: str) -> str:
    """The fixed answer a team gives for an intent (the benchmark's stand-in for history)."""
    topic = intent.replace("_", " ")
    return f"Hi {{customer}}, about your {topic} (case #{{case}}): here is what to do."


def quality(index: ReplyIndex, queries: Vectors, labels: list[str], truth: list[str]) -> dict:
    top1 = top3 = 0
    for vector, expected in zip(queries, truth, strict=True):
        found = [labels[s.rows[0]] for s in index.suggest(vector)]
        top1 += bool(found) and found[0] == expected
        top3 += expected in found[:3]
    return {"top1": round(top1 / len(truth), 4), "top3": round(top3 / len(truth), 4)}


def nearest_neighbour(
    history: Vectors, labels: list[str], queries: Vectors, truth: list[str]
) -> dict:
    similarity = queries @ history.T
    order = np.argsort(-similarity, axis=1)
    top1 = top3 = 0
    for row, expected in zip(order, truth, strict=True):
        seen: list[str] = []
        for i in row:
            if labels[i] not in seen:
                seen.append(labels[i])
            if len(seen) == 3:
                break
        top1 += seen[0] == expected
        top3 += expected in seen
    return {"top1": round(top1 / len(truth), 4), "top3": round(top3 / len(truth), 4)}


def latency(history: Vectors, replies: list[str], queries: Vectors, rows: int) -> dict:
    rng = np.random.default_rng(7)
    repeat = -(-rows // len(history))
    vectors = np.vstack([history] * repeat)[:rows]
    if rows > len(history):
        vectors = vectors + rng.normal(0, 0.01, vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    answers = (replies * repeat)[:rows]
    index = ReplyIndex()
    index.add(vectors, answers)
    started = time.perf_counter()
    index.fit()
    fit_seconds = time.perf_counter() - started
    times = []
    for vector in queries[:QUERIES]:
        started = time.perf_counter()
        index.suggest(vector)
        times.append((time.perf_counter() - started) * 1000)
    p50, p99 = np.percentile(times, [50, 99])
    return {
        "resolved_cases": rows,
        "p50_ms": round(float(p50), 2),
        "p99_ms": round(float(p99), 2),
        "target_p99_ms": 100 if rows >= 100_000 else None,
        "index_mb": round(index.nbytes / 1e6, 1),
        "fit_seconds": round(fit_seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    train_texts, train_labels = read(args.data / "train.csv")
    test_texts, test_labels = read(args.data / "test.csv")
    encoder = MiniLMEncoder()
    started = time.perf_counter()
    history, queries = encoder.encode(train_texts), encoder.encode(test_texts)
    encoded = {"encoded": len(train_texts) + len(test_texts)}
    encoded["encode_seconds"] = round(time.perf_counter() - started, 1)  # type: ignore[assignment]
    sys.stdout.write(json.dumps(encoded) + "\n")

    replies = [reply_for(label) for label in train_labels]
    index = ReplyIndex()
    index.add(history, replies)
    index.fit()
    ours = quality(index, queries, train_labels, test_labels)
    plain = nearest_neighbour(history, train_labels, queries, test_labels)
    figures = {
        "figure": "suggestion quality (Banking77, 77 intents)",
        **ours,
        "target_top1": 0.93,
        "nearest_neighbour": plain,
    }
    sys.stdout.write(json.dumps(figures) + "\n")
    for rows in (int(size) for size in args.sizes.split(",")):
        figure = {"figure": "suggestion latency", **latency(history, replies, queries, rows)}
        sys.stdout.write(json.dumps(figure) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

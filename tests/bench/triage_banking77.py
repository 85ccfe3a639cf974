"""Benchmark: the local classifier on Banking77, macro-F1 over the eleven request types.

Run: `.venv/bin/python -m tests.bench.triage_banking77 [--data ../shared/data/banking77]`.
Prints one JSON line per mode (see the data's README):

1. catalog: the shipped catalog's descriptions and example phrases, nothing learnt;
2. corrections: plus 20 agent corrections per request type drawn from train.csv (seed 7);
3. history: plus all of train.csv imported as labelled history through mapping.yml.

Each line: macro-F1 and accuracy on test.csv (3,080 rows), the expected calibration error of
the confidence, and the seconds the fit took. Encoding the 13,083 texts takes about a minute.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from services.triage.catalog import load_catalog
from services.triage.embeddings import MiniLMEncoder, Vectors
from services.triage.history import load_label_map, read_history
from services.triage.local import Example, catalog_examples, fit

ELEVEN = [
    "duplicate_payment",
    "failed_payment",
    "refund_request",
    "fees_and_charges",
    "fraud_report",
    "lost_or_stolen",
    "account_access",
    "identity_verification",
    "account_changes",
    "card_or_app_problem",
    "general_inquiry",
]
DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "banking77"
CORRECTIONS_PER_TYPE = 20
SEED = 7


def calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: |accuracy - confidence| averaged over confidence bins."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    catalog = load_catalog()
    label_map = load_label_map(args.data / "mapping.yml", catalog)
    train = read_history(args.data / "train.csv", "text", "category", catalog, label_map)
    test = read_history(args.data / "test.csv", "text", "category", catalog, label_map)
    assert not train.rejected and not test.rejected, (train.rejected[:3], test.rejected[:3])

    encoder = MiniLMEncoder()
    base = catalog_examples(catalog)
    started = time.perf_counter()
    base_vectors = encoder.encode([e.text for e in base])
    train_vectors = encoder.encode([e.text for e in train.examples])
    test_vectors = encoder.encode([e.text for e in test.examples])
    encode_seconds = time.perf_counter() - started
    truth = np.array([e.request_type for e in test.examples])

    rng = random.Random(SEED)
    corrections: list[int] = []
    for type_id in ELEVEN:
        rows = [i for i, e in enumerate(train.examples) if e.request_type == type_id]
        corrections += rng.sample(rows, CORRECTIONS_PER_TYPE)
    # An agent's correction names the request type only: no finer label.
    corrected = [
        Example(train.examples[i].text, train.examples[i].request_type) for i in corrections
    ]

    modes: dict[str, tuple[list[Example], Vectors]] = {
        "catalog": (base, base_vectors),
        "corrections": (base + corrected, np.vstack([base_vectors, train_vectors[corrections]])),
        "history": (base + train.examples, np.vstack([base_vectors, train_vectors])),
    }
    encoded = len(base) + len(train.examples) + len(test.examples)
    sys.stdout.write(json.dumps({"encoded": encoded, "encode_seconds": round(encode_seconds, 1)}))
    sys.stdout.write("\n")
    for mode, (examples, vectors) in modes.items():
        started = time.perf_counter()
        model = fit(catalog, examples, vectors)
        fit_seconds = time.perf_counter() - started
        predictions = model.predict(test_vectors)
        predicted = np.array([p.request_type for p in predictions])
        confidence = np.array([p.confidence for p in predictions])
        figures = {
            "mode": mode,
            "examples": len(examples),
            "macro_f1": round(float(f1_score(truth, predicted, labels=ELEVEN, average="macro")), 4),
            "accuracy": round(float(accuracy_score(truth, predicted)), 4),
            "calibration_error": round(calibration_error(confidence, predicted == truth), 4),
            "fit_seconds": round(fit_seconds, 2),
        }
        sys.stdout.write(json.dumps(figures) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

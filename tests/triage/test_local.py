"""The local classifier with the real all-MiniLM-L6-v2 model: catalog, corrections, history."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.triage.catalog import Catalog, load_catalog
from services.triage.embeddings import Encoder
from services.triage.local import Example, LocalModel, catalog_examples, fit


def fitted(catalog: Catalog, encoder: Encoder, extra: list[Example] | None = None) -> LocalModel:
    examples = catalog_examples(catalog) + (extra or [])
    return fit(catalog, examples, encoder.encode([e.text for e in examples]))


@pytest.fixture(scope="module")
def model(catalog: Catalog, encoder: Encoder) -> LocalModel:
    return fitted(catalog, encoder)


def classify(model: LocalModel, encoder: Encoder, text: str) -> str:
    return model.predict(encoder.encode([text]))[0].request_type


@pytest.mark.parametrize(
    ("text", "type_id"),
    [
        ("Hi, you billed me two times for one pizza yesterday", "duplicate_payment"),
        ("somebody nicked my wallet with the card inside", "lost_or_stolen"),
        ("Our entire team gets HTTP 503 from your API since 9am", "outage"),
        ("I want all the personal data you store about me, GDPR article 15", "privacy_request"),
        ("forgot my pin code and now I am locked out", "account_access"),
    ],
)
def test_the_catalog_alone_classifies_plain_requests(
    model: LocalModel, encoder: Encoder, text: str, type_id: str
) -> None:
    assert classify(model, encoder, text) == type_id


def test_corrections_teach_what_the_catalog_does_not_know(
    catalog: Catalog, encoder: Encoder, model: LocalModel
) -> None:
    text = "The loyalty points from my flight never appeared"
    before = classify(model, encoder, text)
    taught = "refund_request" if before != "refund_request" else "fees_and_charges"
    corrections = [
        Example("My airline loyalty points are missing", taught),
        Example("The bonus miles from the flight were never credited", taught),
        Example("Where are the reward points for my trip?", taught),
    ]
    assert classify(fitted(catalog, encoder, corrections), encoder, text) == taught


def test_confidences_are_probabilities(model: LocalModel, encoder: Encoder) -> None:
    vectors = encoder.encode(["my card is broken", "", "x" * 50_000])
    scores = model.scores(vectors)
    assert scores.shape == (3, len(model.types))
    assert np.allclose(scores.sum(axis=1), 1.0)
    predictions = model.predict(vectors)
    assert all(0.0 < p.confidence <= 1.0 for p in predictions)
    assert model.predict(vectors[:0]) == []


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=384, max_size=384))
def test_any_vector_gets_one_catalog_type(model: LocalModel, values: list[float]) -> None:
    vector = np.array([values], dtype=np.float32)
    prediction = model.predict(vector)[0]
    assert prediction.request_type in model.types
    assert 0.0 <= prediction.confidence <= 1.0


def test_examples_of_types_the_catalog_lost_are_ignored(catalog: Catalog, encoder: Encoder) -> None:
    examples = [*catalog_examples(catalog), Example("an old label", "retired_type")]
    model = fit(catalog, examples, encoder.encode([e.text for e in examples]))
    assert "retired_type" not in model.types


def test_a_catalog_of_one_request_type_still_answers(tmp_path: Path, encoder: Encoder) -> None:
    path = tmp_path / "one.yml"
    path.write_text(
        "categories:\n  - name: all\n    request_types:\n      - id: anything\n"
        "        name: Anything\n        description: Any request.\n"
        "        examples: [help]\n        sla: {unit: days, value: 1}\n        priority: 1\n"
    )
    one = load_catalog(path)
    model = fitted(one, encoder)
    assert model.predict(encoder.encode(["hello"]))[0].request_type == "anything"


def test_confidence_is_calibrated_on_held_out_folds(model: LocalModel, encoder: Encoder) -> None:
    # The raw mix of regression and neighbours is underconfident; the fitted temperature
    # sharpens it, and never changes which type wins.
    assert 0.2 <= model.temperature < 1.0
    vectors = encoder.encode(["I was charged twice", "where is my card", "my api is down"])
    raw = replace(model, temperature=1.0)
    assert (model.scores(vectors).argmax(axis=1) == raw.scores(vectors).argmax(axis=1)).all()
    assert (model.scores(vectors).max(axis=1) >= raw.scores(vectors).max(axis=1)).all()

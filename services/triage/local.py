"""The local classifier: embeddings in, a request type and a confidence out, no network.

What it learns from: the catalog's descriptions and example phrases, every correction an
agent makes on a card, and imported help-desk history. Two views of those examples are
combined:

- a multinomial logistic regression over *sub-labels*. A request type is often several
  different things customers say ("general question" covers card delivery, exchange rates,
  limits...); one linear boundary per type fits that badly. Imported history keeps its own
  finer labels as sub-labels (a help-desk export's categories); examples without one are
  split into k-means clusters of about `cluster_size` examples. The probabilities of a
  type's sub-labels are summed.
- the mean cosine similarity of the `neighbours` nearest examples of each type, which
  keeps a handful of fresh corrections effective before they outweigh the regression.

The score is log P(type) + `weight` · similarity; the confidence is that score normalised
over the types (a probability). Fitting is CPU work of seconds: callers run it in a thread
and swap the fitted model in when it is ready.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

if TYPE_CHECKING:  # scikit-learn takes ~1 s to import: only when a model is fitted
    from sklearn.linear_model import LogisticRegression

from services.triage.catalog import Catalog
from services.triage.embeddings import Vectors


@dataclass(frozen=True)
class Example:
    """A labelled text; `sublabel` is a finer label it came with (an imported category)."""

    text: str
    request_type: str
    sublabel: str | None = None


@dataclass(frozen=True)
class Prediction:
    request_type: str
    confidence: float


def catalog_examples(catalog: Catalog) -> list[Example]:
    """Each request type's description and example phrases, as labelled examples."""
    return [
        Example(text, rt.id)
        for rt in catalog.request_types
        for text in (rt.description, *rt.examples)
    ]


@cache
def _blas() -> ThreadpoolController:
    """Finding the loaded thread pools walks every shared library: do it once."""
    return ThreadpoolController()


@dataclass(frozen=True)
class LocalModel:
    """A fitted classifier; immutable, so a new fit can replace it atomically."""

    types: tuple[str, ...]
    regression: LogisticRegression | None  # None: every example has the same sub-label
    class_type: npt.NDArray[np.intp]  # regression class index → type index
    bank: Vectors  # every example's vector
    bank_type: npt.NDArray[np.intp]  # bank row → type index
    neighbours: int
    weight: float
    temperature: float = 1.0  # fitted on held-out folds so that confidence matches accuracy

    def predict(self, vectors: Vectors) -> list[Prediction]:
        if len(vectors) == 0:
            return []
        scores = self.scores(vectors)
        best = scores.argmax(axis=1)
        return [
            Prediction(self.types[i], float(row[i])) for i, row in zip(best, scores, strict=True)
        ]

    def scores(self, vectors: Vectors) -> npt.NDArray[np.float64]:
        """Each type's confidence for each vector (rows sum to 1).

        BLAS runs single-threaded here: these products are small, and OpenBLAS threads
        fighting torch's OpenMP threads for two cores cost a third of the throughput
        (tests/bench/triage_throughput.py: 191 → 273 texts/s in batches of 32).
        """
        with _blas().limit(limits=1, user_api="blas"):
            return self._scores(vectors)

    def _scores(self, vectors: Vectors) -> npt.NDArray[np.float64]:
        z = self.logits(vectors) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        result: npt.NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
        return result

    def logits(self, vectors: Vectors) -> npt.NDArray[np.float64]:
        """log P(type) from the regression plus `weight` times the neighbours' similarity.

        Callers hold the BLAS thread limit (see `scores`).
        """
        probs = np.zeros((len(vectors), len(self.types)))
        if self.regression is None:
            probs[:, self.class_type] = 1.0
        else:
            np.add.at(probs.T, self.class_type, self.regression.predict_proba(vectors).T)
        similarity = vectors @ self.bank.T
        near = np.full((len(vectors), len(self.types)), -1.0)
        for t in range(len(self.types)):
            column = similarity[:, self.bank_type == t]
            if column.shape[1]:
                k = min(self.neighbours, column.shape[1])
                near[:, t] = np.partition(column, -k, axis=1)[:, -k:].mean(axis=1)
        logits: npt.NDArray[np.float64] = np.log(probs + 1e-9) + self.weight * near
        return logits


CALIBRATION_FOLDS = 5
CALIBRATE_UP_TO = 3_000  # examples; beyond, the regression's own probabilities are close
TEMPERATURES = np.exp(np.linspace(np.log(0.2), np.log(3.0), 41))


def fit(
    catalog: Catalog,
    examples: Sequence[Example],
    vectors: Vectors,
    *,
    neighbours: int = 3,
    weight: float = 2.0,
    cluster_size: int = 12,
    regularisation: float = 10.0,
    seed: int = 0,
) -> LocalModel:
    """Fit on `examples` (catalog examples included by the caller), row i of `vectors` each.

    Examples whose type is not in the catalog are ignored (a catalog may have changed since
    they were stored). With few examples the confidence is calibrated: a temperature is
    chosen on held-out folds to minimise the log loss (the raw scores are underconfident).
    """
    index = {t: i for i, t in enumerate(catalog.type_ids)}
    keep = [i for i, e in enumerate(examples) if e.request_type in index]
    examples = [examples[i] for i in keep]
    vectors = vectors[keep]
    if not examples:
        raise ValueError("nothing to learn from: no example names a request type of the catalog")
    options = (neighbours, weight, cluster_size, regularisation, seed)
    model = _fit(catalog, examples, vectors, *options)
    if len(examples) > CALIBRATE_UP_TO:
        return model
    return replace(model, temperature=_temperature(catalog, examples, vectors, options))


def _fit(
    catalog: Catalog,
    examples: Sequence[Example],
    vectors: Vectors,
    neighbours: int,
    weight: float,
    cluster_size: int,
    regularisation: float,
    seed: int,
) -> LocalModel:
    types = tuple(catalog.type_ids)
    index = {t: i for i, t in enumerate(types)}
    bank_type = np.array([index[e.request_type] for e in examples], dtype=np.intp)
    sublabels = _sublabels(examples, vectors, cluster_size, seed)
    classes = np.unique(sublabels)
    regression: LogisticRegression | None = None
    if len(classes) > 1:
        from sklearn.linear_model import LogisticRegression

        regression = LogisticRegression(C=regularisation, max_iter=5000)
        regression.fit(vectors, sublabels)
        classes = regression.classes_
    class_type = np.array([index[str(c).split("\x1f", 1)[0]] for c in classes], dtype=np.intp)
    return LocalModel(
        types=types,
        regression=regression,
        class_type=class_type,
        bank=vectors,
        bank_type=bank_type,
        neighbours=neighbours,
        weight=weight,
    )


def _temperature(
    catalog: Catalog,
    examples: Sequence[Example],
    vectors: Vectors,
    options: tuple[int, float, int, float, int],
) -> float:
    """The temperature with the lowest log loss on examples each scored by a model fitted
    without them (k folds, shuffled with a fixed seed)."""
    order = np.random.default_rng(options[-1]).permutation(len(examples))
    folds = np.array_split(order, min(CALIBRATION_FOLDS, len(examples)))
    logits: list[npt.NDArray[np.float64]] = []
    truth: list[int] = []
    index = {t: i for i, t in enumerate(catalog.type_ids)}
    for held in folds:
        train = np.setdiff1d(order, held)
        if len(train) == 0 or len(held) == 0:
            continue
        model = _fit(catalog, [examples[i] for i in train], vectors[train], *options)
        with _blas().limit(limits=1, user_api="blas"):
            logits.append(model.logits(vectors[held]))
        truth += [index[examples[i].request_type] for i in held]
    if not logits:
        return 1.0
    z, y = np.vstack(logits), np.array(truth)
    losses = []
    for t in TEMPERATURES:
        scaled = z / t
        scaled -= scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scaled).sum(axis=1))
        losses.append(float(np.mean(log_norm - scaled[np.arange(len(y)), y])))
    return float(TEMPERATURES[int(np.argmin(losses))])


def _sublabels(
    examples: Sequence[Example], vectors: Vectors, cluster_size: int, seed: int
) -> npt.NDArray[np.str_]:
    """'type␟finer label' per example: the imported label, else a k-means cluster of its type."""
    labels = np.empty(len(examples), dtype=object)
    unlabelled: dict[str, list[int]] = {}
    for i, example in enumerate(examples):
        if example.sublabel:
            labels[i] = f"{example.request_type}\x1f={example.sublabel}"
        else:
            unlabelled.setdefault(example.request_type, []).append(i)
    for type_id, rows in unlabelled.items():
        k = max(1, len(rows) // cluster_size)
        if k == 1:
            clusters = np.zeros(len(rows), dtype=np.intp)
        else:
            from sklearn.cluster import KMeans

            clusters = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(vectors[rows])
        for row, cluster in zip(rows, clusters, strict=True):
            labels[row] = f"{type_id}\x1f#{cluster}"
    return labels.astype(str)

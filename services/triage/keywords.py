"""Keyword rules: the last link of the classifier chain, for when no model is available.

Each request type's words come from its name, description and example phrases; a text
scores the rarer shared words higher (idf over the request types). With no shared word the
answer is the catalog's catch-all: its lowest-priority request type. The confidence is
capped at 0.5: word overlap never claims to be sure.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from services.triage.catalog import Catalog
from services.triage.local import Prediction

MAX_CONFIDENCE = 0.5
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_STOP_WORDS = """a about after again all am an and any are as at be been but by can could did
    do does
    for from had has have how i if in into is it its me my no not of on or our please so
    than that the their them then there these they this to too was we were what when where
    which who why will with would you your yet hi hello thanks thank"""
_STOP = frozenset(_STOP_WORDS.split())


def words(text: str) -> set[str]:
    """Lower-case word stems, stop words dropped ('payments' and 'payment' are one word)."""
    found = set()
    for word in _WORD.findall(text.casefold()):
        if word in _STOP:
            continue
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
        found.add(word)
    return found


@dataclass(frozen=True)
class KeywordRules:
    vocab: dict[str, frozenset[str]]  # type id → its words
    idf: dict[str, float]
    fallback: str

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> KeywordRules:
        vocab = {
            rt.id: frozenset(words(" ".join((rt.id, rt.name, rt.description, *rt.examples))))
            for rt in catalog.request_types
        }
        df = Counter(w for ws in vocab.values() for w in ws)
        idf = {w: math.log(1 + len(vocab) / n) for w, n in df.items()}
        fallback = min(catalog.request_types, key=lambda rt: rt.priority).id
        return cls(vocab, idf, fallback)

    def classify(self, text: str) -> Prediction:
        seen = words(text)
        scores = {t: sum(self.idf[w] for w in seen & ws) for t, ws in self.vocab.items()}
        total = sum(scores.values())
        best = max(scores, key=lambda t: scores[t])
        if total <= 0:
            return Prediction(self.fallback, 0.1)
        return Prediction(best, round(MAX_CONFIDENCE * scores[best] / total, 4))

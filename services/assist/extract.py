"""The summary without a model API: the case's own sentences, chosen, never rewritten.

What the customer wants is the most central sentence of their first messages, before any
reply (the one the others are most alike, with a nudge towards sentences that ask for
something); what was tried is the most central sentence of the agents' latest replies; what
is still open is the most central sentence of what the customer wrote after the last reply.
With no embeddings (the model did not load) those nudges alone decide. Work is bounded
whatever the case's length: a few messages at each end, a fixed number of sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.assist.facts import facts
from services.triage.embeddings import Vectors

CUSTOMER, AGENT = "customer", "agent"
FIRST_TURNS, LAST_TURNS = 3, 3  # customer messages read at the start, and at the end
MAX_SENTENCES = 60
WORDS = {"wants": 22, "tried": 16, "open": 16}
MAX_WORDS = 72  # "about 60 words": the three parts, then as many facts as fit
_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_ASKS = re.compile(
    r"\?|\b(please|could you|can you|i want|i need|i'd like|i would like|help|refund|fix|"
    r"cancel|change|send|why|how|when)\b",
    re.IGNORECASE,
)
ASK_BONUS = 0.05  # a sentence that asks for something wins a near tie
SHORT_WORDS, SHORT_PENALTY = 4, 0.1  # "Thanks!", "Sorry about that." say little


@dataclass(frozen=True)
class Turn:
    """One message of the case: who wrote it (`customer` or `agent`) and what."""

    role: str
    text: str


@dataclass(frozen=True)
class Summary:
    """A case in a few lines; `source` says how it was made (`extract` or `claude`)."""

    text: str
    source: str
    facts: tuple[str, ...] = ()
    open_question: str | None = None


@dataclass(frozen=True)
class Picked:
    """The sentences an extract needs, in the order they are embedded."""

    wants: list[str]
    tried: list[str]
    still_open: list[str]

    @property
    def all(self) -> list[str]:
        return [*self.wants, *self.tried, *self.still_open]


def sentences(text: str) -> list[str]:
    """A message's sentences, without quoted lines (`> …`) and empty bits."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    parts = (" ".join(p.split()) for p in _SPLIT.split("\n".join(lines)))
    return [p for p in parts if len(p.split()) >= 2 or p.endswith("?")]


def pick(turns: Sequence[Turn]) -> Picked:
    """The candidate sentences for each part, from a bounded number of messages."""
    first_agent = next((i for i, t in enumerate(turns) if t.role == AGENT), len(turns))
    customer = [t for t in turns[:first_agent] if t.role == CUSTOMER] or [
        t for t in turns if t.role == CUSTOMER
    ]
    last_agent = max((i for i, t in enumerate(turns) if t.role == AGENT), default=-1)
    agents = [t for t in turns if t.role == AGENT][-LAST_TURNS:]
    after = [t for t in turns[last_agent + 1 :] if t.role == CUSTOMER] if last_agent >= 0 else []
    share = MAX_SENTENCES // 3

    def of(chosen: Sequence[Turn]) -> list[str]:
        return [s for t in chosen for s in sentences(t.text)][:share]

    return Picked(
        wants=of(customer[:FIRST_TURNS]), tried=of(agents), still_open=of(after[-LAST_TURNS:])
    )


def fitting(found: Sequence[str], words: int) -> list[str]:
    """The first facts that fit in `words` words."""
    kept: list[str] = []
    for fact in found:
        words -= len(fact.split())
        if words < 0:
            break
        kept.append(fact)
    return kept


def clip_words(text: str, words: int) -> str:
    said = text.split()
    return text if len(said) <= words else " ".join(said[:words]) + "…"


def _prior(sentence: str, asks: bool) -> float:
    bonus = ASK_BONUS if asks and _ASKS.search(sentence) else 0.0
    return bonus - (SHORT_PENALTY if len(sentence.split()) < SHORT_WORDS else 0.0)


def _central(candidates: list[str], vectors: Vectors | None, *, asks: bool) -> str:
    """The sentence most like the others, nudged towards asking (`asks`) and away from
    short courtesies; ties go to the earliest. With no vectors the prior alone decides."""
    priors = np.array([_prior(s, asks) for s in candidates])
    if vectors is None or len(candidates) < 2:
        return candidates[int(np.argmax(priors))]
    centroid = vectors.mean(axis=0)
    return candidates[int(np.argmax(vectors @ centroid + priors))]


def summarise(turns: Sequence[Turn], vectors: Vectors | None) -> Summary:
    """The extract: `vectors` are the embeddings of `pick(turns).all`, or None."""
    picked = pick(turns)
    parts: list[str] = []
    offset = 0
    for label, candidates in (
        ("wants", picked.wants),
        ("tried", picked.tried),
        ("open", picked.still_open),
    ):
        rows = vectors[offset : offset + len(candidates)] if vectors is not None else None
        offset += len(candidates)
        if candidates:
            best = _central(candidates, rows, asks=label != "tried")
            chosen = clip_words(best, WORDS[label])
            parts.append(f"{label.capitalize()}: {chosen}")
    if not picked.tried:
        parts.append("Tried: no reply yet.")
    elif not picked.still_open:
        parts.append("Open: waiting for the customer.")
    text = " ".join(p if p.endswith((".", "!", "?", "…")) else p + "." for p in parts)
    found = tuple(fitting(facts(t.text for t in turns), MAX_WORDS - len(text.split()) - 1))
    if found:
        text += " Facts: " + "; ".join(found) + "."
    return Summary(text=text or "(nothing written yet)", source="extract", facts=found)

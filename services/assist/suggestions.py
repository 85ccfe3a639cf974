"""Suggested replies from the team's own history: resolved cases and imported help-desk rows,
embedded once, held in memory by a `ReplyIndex`, and refreshed as cases are resolved."""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.assist.claude_draft import LlmDrafter
from services.assist.history import HistoryRow, filled
from services.assist.reply_index import ReplyIndex, Suggestion
from services.assist.summaries import case_turns
from services.audit import audit
from services.triage.embeddings import Vectors
from services.triage.learning import from_bytes, to_bytes
from services.triage.llm import LlmFailed
from storage.engine import SessionFactory
from storage.models import AuditEvent, Case, Customer, Direction, Message, ReplyHistory

log = logging.getLogger(__name__)

Embed = Callable[[Sequence[str]], Awaitable[Vectors | None]]
BATCH = 5_000  # history rows read at a time
EMBED_BATCH = 256  # ... and embedded and written back at a time
REFIT_GROWTH = 0.1  # refit the regression once the history grew by a tenth
CONFIDENT = 0.8  # a request type this sure keeps suggestions to its own cases
CASE_TEXT_MESSAGES = 3  # a case is known by its customer's latest messages
TEXT_CHARS = 1_000  # of a history row's question, kept to show Claude
MAX_DRAFT = 3000  # a modal's text input holds at most this much


@dataclass(frozen=True)
class Draft:
    """What the Suggest-reply modal shows: a draft (None: nothing similar) and its sources."""

    text: str | None
    sources: tuple[str, ...]  # "#123", or "history row 42" for an imported row
    similarity: float = 0.0
    by: str = "history"  # history: a past answer as it was; claude: written from them


class ReplySuggestions:
    def __init__(
        self, sessions: SessionFactory, *, embed: Embed, llm: LlmDrafter | None = None
    ) -> None:
        self._sessions = sessions
        self._embed = embed
        self._llm = llm
        self._texts: list[str] = []  # each row's question, for Claude's examples
        self._row_of: dict[int, int] = {}  # history row id -> its (latest) index row
        self._last_id = 0
        self._index = ReplyIndex()
        self._ids: list[int] = []  # the history row behind each index row
        self._cases: list[int | None] = []
        self._labels: list[str | None] = []
        self._lock = asyncio.Lock()
        self._fitting: asyncio.Task[None] | None = None

    @property
    def size(self) -> int:
        return len(self._index)

    async def import_rows(
        self, rows: Sequence[HistoryRow], *, progress: Callable[[int], None] = lambda _: None
    ) -> int:
        """Store an export's rows, embedded, as resolved history; how many were stored."""
        stored = 0
        for start in range(0, len(rows), EMBED_BATCH):
            chunk = rows[start : start + EMBED_BATCH]
            vectors = await self._embed([r.text for r in chunk])
            if vectors is None:
                raise RuntimeError("the embedding model did not load: nothing can be imported")
            async with self._sessions() as session, session.begin():
                session.add_all(
                    ReplyHistory(
                        text=r.text,
                        reply=r.reply,
                        label=r.label,
                        source="import",
                        vector=to_bytes(v),
                    )
                    for r, v in zip(chunk, vectors, strict=True)
                )
            stored += len(chunk)
            progress(len(chunk))
        return stored

    async def refresh(self) -> int:
        """Take in history rows stored since the last look, and rows changed since (a case
        resolved again: its vector was cleared), embedding what lacks a vector; refit when
        the history grew enough. Returns the rows taken in."""
        async with self._lock:
            taken = 0
            while True:
                async with self._sessions() as session:
                    newer = col(ReplyHistory.id) > self._last_id
                    rows = await self._read(session, newer)
                    if not rows:
                        changed = (col(ReplyHistory.id) <= self._last_id) & col(
                            ReplyHistory.vector
                        ).is_(None)
                        rows = await self._read(session, changed)
                if not rows:
                    break
                vectors = await self._vectors(rows)
                if vectors is None:
                    return taken  # no model: no suggestions, nothing lost
                self._take(rows, vectors)
                taken += len(rows)
            grown = len(self._index) - self._index.fitted_rows
            fitting = self._fitting is not None and not self._fitting.done()
            if grown >= max(1, REFIT_GROWTH * self._index.fitted_rows) and not fitting:
                # In the background: suggestions go on from the neighbours meanwhile.
                self._fitting = asyncio.create_task(asyncio.to_thread(self._index.fit))
                self._fitting.add_done_callback(_fitted)
            return taken

    @staticmethod
    async def _read(session: AsyncSession, where: Any) -> list[ReplyHistory]:
        found = await session.exec(
            select(ReplyHistory).where(where).order_by(col(ReplyHistory.id)).limit(BATCH)
        )
        return list(found.all())

    def _take(self, rows: list[ReplyHistory], vectors: Vectors) -> None:
        """Append the rows to the index; a row taken in before is retired there first."""
        self._index.retire([self._row_of[int(r.id or 0)] for r in rows if r.id in self._row_of])
        start = len(self._index)
        self._index.add(vectors, [r.reply for r in rows], [r.request_type for r in rows])
        for offset, row in enumerate(rows):
            self._row_of[int(row.id or 0)] = start + offset
            self._last_id = max(self._last_id, int(row.id or 0))
        self._ids += [int(r.id or 0) for r in rows]
        self._cases += [r.case_id for r in rows]
        self._labels += [r.label for r in rows]
        self._texts += [r.text[:TEXT_CHARS] for r in rows]

    async def _vectors(self, rows: list[ReplyHistory]) -> Vectors | None:
        """The rows' embeddings: stored ones, and the missing ones made and written back."""
        missing = [r for r in rows if r.vector is None]
        for start in range(0, len(missing), EMBED_BATCH):
            chunk = missing[start : start + EMBED_BATCH]
            made = await self._embed([r.text for r in chunk])
            if made is None:
                return None
            async with self._sessions() as session, session.begin():
                for row, vector in zip(chunk, made, strict=True):
                    stored = await session.get(ReplyHistory, row.id)
                    if stored is not None:
                        stored.vector = to_bytes(vector)
                    row.vector = to_bytes(vector)
        return np.stack([from_bytes(r.vector or b"") for r in rows]).astype(np.float32)

    async def suggest(self, text: str, *, kind: str | None = None) -> list[Suggestion]:
        """The best past answers for a text (up to three), or none above the floor."""
        await self.refresh()
        vectors = await self._embed([text])
        if vectors is None or not len(self._index):
            return []
        return self._index.suggest(vectors[0], kind=kind)

    def source_of(self, row: int) -> str:
        """Where an index row came from: its case number, or its imported history row."""
        case = self._cases[row]
        return f"#{case}" if case is not None else f"history row {self._ids[row]}"

    def label_of(self, row: int) -> str | None:
        return self._labels[row]

    async def for_case(self, case_id: int) -> Draft:
        """A draft reply for the case: the best past answer, for this customer and case."""
        async with self._sessions() as session:
            case = await session.get(Case, case_id)
            if case is None:
                return Draft(None, ())
            customer = await session.get(Customer, case.customer_id)
            latest = await session.exec(
                select(Message.body)
                .where(
                    Message.case_id == case_id,
                    Message.direction == Direction.INBOUND,
                    col(Message.deleted_at).is_(None),
                )
                .order_by(col(Message.id).desc())
                .limit(CASE_TEXT_MESSAGES)
            )
            texts = list(reversed(latest.all()))
        text = "\n".join(texts) or case.subject
        confident = (case.triage_confidence or 0.0) >= CONFIDENT
        found = await self.suggest(text, kind=case.request_type if confident else None)
        if not found:
            return Draft(None, ())
        best = found[0]
        name = customer.name if customer is not None else ""
        if self._llm is not None and self._llm.available():
            try:
                return await self._by_claude(case, name, found)
            except LlmFailed as error:
                log.warning("draft by Claude refused, the past answer stands in: %s", error)
        return Draft(
            text=filled(best.reply, name, case.number),
            sources=tuple(dict.fromkeys(self.source_of(r) for r in best.rows))[:3],
            similarity=best.similarity,
        )

    async def _by_claude(self, case: Case, name: str, found: list[Suggestion]) -> Draft:
        """Claude's draft from the case and the three best past answers as examples."""
        assert self._llm is not None
        async with self._sessions() as session:
            turns = await case_turns(session, case.number)
        examples = [(self._texts[s.rows[0]], s.reply) for s in found[:3]]
        first_name = name.strip().split(" ")[0] or "there"
        reply = await self._llm.draft(turns, examples, first_name)
        return Draft(
            text=filled(reply, name, case.number),
            sources=tuple(dict.fromkeys(self.source_of(s.rows[0]) for s in found[:3])),
            similarity=found[0].similarity,
            by="claude",
        )


def _fitted(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("the reply classifier could not be fitted: %s", error)


def edited_fraction(draft: str, sent: str) -> float:
    """How much of the draft the agent changed before sending (0: as drafted, 1: all)."""
    return round(1.0 - difflib.SequenceMatcher(None, draft, sent, autojunk=False).ratio(), 3)


class SuggestionLog:
    """What became of each suggestion: offered (with its draft), sent (how edited) or
    discarded; kept in the audit trail, which App Home counts."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def offered(
        self, case_id: int, actor: str, *, view: str, draft: str | None, sources: Sequence[str]
    ) -> None:
        async with self._sessions() as session, session.begin():
            audit(
                session,
                case_id,
                "suggestion.offered",
                actor,
                view=view,
                draft=(draft or "")[:MAX_DRAFT],
                sources=list(sources),
            )

    async def sent(self, case_id: int, actor: str, *, view: str, text: str) -> float | None:
        """Record the sending; how much of the draft was edited (None: there was no draft)."""
        async with self._sessions() as session, session.begin():
            draft = await self._draft(session, case_id, view)
            edited = edited_fraction(draft, text) if draft else None
            audit(session, case_id, "suggestion.sent", actor, view=view, edited=edited)
        return edited

    async def discarded(self, case_id: int, actor: str, *, view: str) -> None:
        async with self._sessions() as session, session.begin():
            audit(session, case_id, "suggestion.discarded", actor, view=view)

    async def _draft(self, session: AsyncSession, case_id: int, view: str) -> str:
        rows = await session.exec(
            select(AuditEvent).where(
                AuditEvent.case_id == case_id, AuditEvent.action == "suggestion.offered"
            )
        )
        for row in rows.all():
            if row.data.get("view") == view:
                return str(row.data.get("draft") or "")
        return ""

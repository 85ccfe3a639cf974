"""Case summaries on demand: Claude when it is configured and answering, else the extract;
kept per case and made again only when its messages change."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.assist.claude import LlmSummariser
from services.assist.extract import AGENT, CUSTOMER, FIRST_TURNS, Summary, Turn, pick, summarise
from services.triage.embeddings import Vectors
from services.triage.llm import LlmFailed
from storage.engine import SessionFactory
from storage.models import CaseSummary, Direction, Message, utcnow

log = logging.getLogger(__name__)

Embed = Callable[[Sequence[str]], Awaitable[Vectors | None]]
LAST_MESSAGES = 12  # besides the customer's first ones: what a summary reads at most


async def no_vectors(_texts: Sequence[str]) -> Vectors | None:
    return None


class CaseSummaries:
    def __init__(
        self, sessions: SessionFactory, *, embed: Embed = no_vectors, llm: LlmSummariser | None
    ) -> None:
        self._sessions = sessions
        self._embed = embed
        self._llm = llm

    async def summary(self, case_id: int) -> Summary | None:
        """The case's summary, from the cache while its messages are unchanged; None for a
        case with nothing written (a storm's master incident)."""
        async with self._sessions() as session:
            key = await _key(session, case_id)
            cached = await session.get(CaseSummary, case_id)
            if cached is not None and cached.key == key:
                return Summary(text=cached.text, source=cached.source)
            turns = await case_turns(session, case_id)
        if not turns:
            return None
        made = await self._make(turns)
        async with self._sessions() as session, session.begin():
            row = await session.get(CaseSummary, case_id)
            if row is None:
                row = CaseSummary(case_id=case_id, key=key, text="", source="")
                session.add(row)
            row.key, row.text, row.source, row.made_at = key, shown(made), made.source, utcnow()
        return Summary(text=shown(made), source=made.source)

    async def _make(self, turns: list[Turn]) -> Summary:
        if self._llm is not None and self._llm.available():
            try:
                return await self._llm.summarise(turns)
            except LlmFailed as error:
                log.warning("summary by Claude refused, the extract stands in: %s", error)
        picked = pick(turns).all
        vectors = await self._embed(picked) if picked else None
        return summarise(turns, vectors)


def shown(summary: Summary) -> str:
    """The summary as one text: Claude's with its open question and facts appended."""
    if summary.source == "extract":
        return summary.text[:4000]
    text = summary.text
    if summary.open_question:
        text += f" Open question: {summary.open_question}"
    if summary.facts:
        text += " Facts: " + "; ".join(summary.facts) + "."
    return text[:4000]


async def _key(session: AsyncSession, case_id: int) -> str:
    """What the summary depends on: the newest message, how many, the latest change."""
    row = (
        await session.exec(
            select(
                func.max(Message.id),
                func.count(col(Message.id)),
                func.max(Message.edited_at),
                func.max(Message.deleted_at),
            ).where(Message.case_id == case_id)
        )
    ).one()
    newest, count, edited, deleted = row
    changed = max((t for t in (edited, deleted) if t is not None), default=None)
    return f"{newest}/{count}/{changed.isoformat() if changed else '-'}"[:120]


async def case_turns(session: AsyncSession, case_id: int) -> list[Turn]:
    """The customer's first messages and the latest ones, oldest first; deleted ones left out."""
    live = (Message.case_id == case_id, col(Message.deleted_at).is_(None))
    first = await session.exec(
        select(Message)
        .where(*live, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id))
        .limit(FIRST_TURNS)
    )
    last = await session.exec(
        select(Message).where(*live).order_by(col(Message.id).desc()).limit(LAST_MESSAGES)
    )
    messages = {m.id: m for m in [*first.all(), *last.all()]}
    return [
        Turn(CUSTOMER if m.direction == Direction.INBOUND else AGENT, m.body)
        for _, m in sorted(messages.items(), key=lambda item: item[0] or 0)
        if m.body.strip()
    ]

"""Triage on cases: what a classification sets, agents' corrections, and re-triage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.audit import audit
from services.cases.context import CaseContext, load
from services.cases.learning import Learning
from services.cases.transition import transition
from services.errors import DomainError
from services.outbox import OutboxKind, enqueue
from services.transitions import Action
from services.triage.catalog import Catalog
from services.triage.embeddings import Vectors
from services.triage.learning import to_bytes
from services.triage.service import Triage
from services.types import Actor
from storage import queries
from storage.models import Case, LabelledExample
from storage.triage_queries import cases_to_retriage

CORRECTION = "correction"


class TriageOff(DomainError):
    def __init__(self) -> None:
        super().__init__("Triage is not configured, so there are no request types to choose.")


def apply(catalog: Catalog, case: Case, triage: Triage, now: datetime) -> None:
    """Triage's answer on the case; the SLA due time from the catalog, never a model."""
    rt = catalog.request_type(triage.request_type)
    case.request_type = rt.id
    case.category = triage.category
    case.triage_confidence = triage.confidence
    case.triage_source = triage.source
    case.triage_reason = triage.reason[:300]
    case.urgency = triage.urgency
    case.sla_due_at = (case.created_at or now) + rt.sla.delta


class CaseTriage:
    """Agents' corrections of the request type, and classifying the backlog again."""

    def __init__(self, ctx: CaseContext, learning: Learning) -> None:
        self._ctx = ctx
        self._learning = learning

    @property
    def catalog(self) -> Catalog | None:
        """The service catalog, when triage is on (cards offer its request types)."""
        return self._ctx.triage.catalog if self._ctx.triage is not None else None

    async def correct_type(self, *, case_id: int, actor: Actor, type_name: str) -> Case:
        """An agent sets the request type; the case's first message becomes a labelled example.

        The SLA due time follows the new type. One example per case: a second correction
        replaces the first, so a slip of the mouse does not stay in what triage learns.
        """
        ctx = self._ctx
        await ctx.require_agent(actor, Action.RECATEGORISE, case_id)
        if ctx.triage is None:
            raise TriageOff()
        triager = ctx.triage
        rt = triager.catalog.request_type(type_name)
        async with ctx.sessions() as session:
            first = await queries.first_customer_message(session, case_id)
        vectors = await triager.embed([first.body]) if first is not None else None
        now = ctx.clock()
        async with ctx.transaction() as session:
            case = await load(session, case_id)
            before = case.request_type
            case.request_type = rt.id
            case.category = triager.catalog.category_of(rt.id).name
            case.triage_confidence = 1.0
            case.triage_source = "agent"
            case.triage_reason = f"set by {actor.label}"[:300]
            case.sla_due_at = case.created_at + rt.sla.delta
            transition(
                session,
                case,
                Action.RECATEGORISE,
                now=now,
                actor=actor.label,
                event="case.recategorised",
                old=before,
                new=rt.id,
            )
            if first is not None:
                await _label(session, case, first.body, actor, vectors, now)
        self._learning.learn()
        return case

    async def retriage_backlog(
        self, *, batch: int = 30, progress: Callable[[int], None] = lambda _: None
    ) -> tuple[int, int]:
        """Classify every open case again (not those an agent typed); (seen, changed).

        Cards of changed cases are updated through the outbox, by whichever bot runs.
        """
        ctx = self._ctx
        if ctx.triage is None:
            raise TriageOff()
        seen = changed = last = 0
        while True:
            async with ctx.sessions() as session:
                page = await cases_to_retriage(session, after_id=last, limit=batch)
            if not page:
                return seen, changed
            triages = await ctx.triage.classify_many([text for _, text in page])
            now = ctx.clock()
            async with ctx.transaction() as session:
                for (stale, _), triage in zip(page, triages, strict=True):
                    case = await load(session, stale.number)
                    if case.triage_source == "agent" or not case.is_active:
                        continue  # changed since the page was read
                    if case.request_type != triage.request_type:
                        audit(
                            session,
                            case.number,
                            "case.retriaged",
                            "triage",
                            old=case.request_type,
                            new=triage.request_type,
                        )
                        changed += 1
                    apply(ctx.triage.catalog, case, triage, now)
                    enqueue(session, case, OutboxKind.CASE_CARD)
            seen += len(page)
            last = page[-1][0].number
            progress(len(page))


async def _label(
    session: AsyncSession,
    case: Case,
    text: str,
    actor: Actor,
    vectors: Vectors | None,
    now: datetime,
) -> None:
    stmt = select(LabelledExample).where(
        col(LabelledExample.case_id) == case.number, col(LabelledExample.source) == CORRECTION
    )
    example = (await session.exec(stmt)).first() or LabelledExample(
        text=text, request_type="", source=CORRECTION, case_id=case.number
    )
    example.request_type = str(case.request_type)
    example.actor = actor.id
    example.vector = to_bytes(vectors[0]) if vectors is not None else None
    example.created_at = now
    session.add(example)

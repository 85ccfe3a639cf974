"""Triage on cases: which messages get classified, what that sets, and agents' corrections.

The base of the case service's writes: it owns the transaction helper and the agent check
the other writes use too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import customers
from services.audit import audit
from services.case_reads import CaseReads
from services.errors import DomainError, NotAllowed
from services.outbox import OutboxKind, enqueue
from services.rules import can_reopen
from services.threading import continued_case
from services.transitions import Action, next_status
from services.triage.catalog import Catalog
from services.triage.embeddings import Vectors
from services.triage.learning import learnt, to_bytes
from services.triage.service import Triage
from services.types import Actor, InboundMessage
from storage import queries
from storage.models import Case, CaseStatus, LabelledExample
from storage.triage_queries import cases_to_retriage, examples_signature

log = logging.getLogger(__name__)

CORRECTION = "correction"


class TriageOff(DomainError):
    def __init__(self) -> None:
        super().__init__("Triage is not configured, so there are no request types to choose.")


class CaseTriage(CaseReads):
    """Classifies the messages that open cases and records agents' corrections."""

    _refit: asyncio.Task[None] | None = None
    _refit_again = False
    _learnt_signature: tuple[int, int] | None = None  # what the current model was fitted on

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session, session.begin():
            yield session
        self._notify()

    @property
    def catalog(self) -> Catalog | None:
        """The service catalog, when triage is on (cards offer its request types)."""
        return self._triage.catalog if self._triage is not None else None

    async def _opens(self, inbound: InboundMessage) -> bool:
        """Whether `inbound` would open a new case (read only; False without triage)."""
        if self._triage is None:
            return False
        async with self._sessions() as session:
            if await queries.message_by_external_id(session, inbound.source, inbound.external_id):
                return False
            customer = await customers.find(session, inbound.customer)
            if customer is None:
                return True
            assert customer.id is not None
            case = await continued_case(session, inbound, customer.id, lock=False)
            if case is None:
                return True
            return case.status == CaseStatus.RESOLVED and not can_reopen(
                case.resolved_at, self._clock(), self._rules.reopen_window_hours
            )

    def _apply(self, case: Case, triage: Triage, now: datetime) -> None:
        """Triage's answer on the case; the SLA due time from the catalog, never a model."""
        assert self._triage is not None
        rt = self._triage.catalog.request_type(triage.request_type)
        case.request_type = rt.id
        case.category = triage.category
        case.triage_confidence = triage.confidence
        case.triage_source = triage.source
        case.triage_reason = triage.reason[:300]
        case.urgency = triage.urgency
        case.sla_due_at = (case.created_at or now) + rt.sla.delta

    async def correct_type(self, case_id: int, actor: Actor, type_name: str) -> Case:
        """An agent sets the request type; the case's first message becomes a labelled example.

        The SLA due time follows the new type. One example per case: a second correction
        replaces the first, so a slip of the mouse does not stay in what triage learns.
        """
        await self._require_agent(actor, Action.RECATEGORISE, case_id)
        if self._triage is None:
            raise TriageOff()
        triager = self._triage
        rt = triager.catalog.request_type(type_name)
        async with self._sessions() as session:
            first = await queries.first_customer_message(session, case_id)
        vectors = await triager.embed([first.body]) if first is not None else None
        now = self._clock()
        async with self._transaction() as session:
            case = await self._load(session, case_id)
            case.status = next_status(
                case.number, case.status, Action.RECATEGORISE, assigned=bool(case.assignee)
            )
            before = case.request_type
            case.request_type = rt.id
            case.category = triager.catalog.category_of(rt.id).name
            case.triage_confidence = 1.0
            case.triage_source = "agent"
            case.triage_reason = f"set by {actor.label}"[:300]
            case.sla_due_at = case.created_at + rt.sla.delta
            case.updated_at = now
            audit(session, case.number, "case.recategorised", actor.label, old=before, new=rt.id)
            enqueue(session, case, OutboxKind.CASE_CARD)
            if first is not None:
                await self._label(session, case, first.body, actor, vectors, now)
        self.learn()
        return case

    async def _label(
        self,
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

    async def retriage_backlog(
        self, *, batch: int = 30, progress: Callable[[int], None] = lambda _: None
    ) -> tuple[int, int]:
        """Classify every open case again (not those an agent typed); (seen, changed).

        Cards of changed cases are updated through the outbox, by whichever bot runs.
        """
        if self._triage is None:
            raise TriageOff()
        seen = changed = last = 0
        while True:
            async with self._sessions() as session:
                page = await cases_to_retriage(session, after_id=last, limit=batch)
            if not page:
                return seen, changed
            triages = await self._triage.classify_many([text for _, text in page])
            now = self._clock()
            async with self._transaction() as session:
                for (stale, _), triage in zip(page, triages, strict=True):
                    case = await self._load(session, stale.number)
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
                    self._apply(case, triage, now)
                    enqueue(session, case, OutboxKind.CASE_CARD)
            seen += len(page)
            last = page[-1][0].number
            progress(len(page))

    def learn(self) -> None:
        """Refit the local model on everything stored, in the background (one at a time)."""
        if self._triage is None:
            return
        if self._refit is not None and not self._refit.done():
            self._refit_again = True
            return
        self._refit = asyncio.create_task(self._refit_loop(), name="triage-refit")

    async def mark_learnt(self) -> None:
        """Remember what the model was just fitted on (call right after triage starts)."""
        async with self._sessions() as session:
            self._learnt_signature = await examples_signature(session)

    async def refresh_learning(self) -> int:
        """A sweep: refit when examples were added elsewhere (another process, the CLI).

        Returns 1 when a refit was started, for the scheduler's log.
        """
        if self._triage is None or self._triage.dimension is None:
            return 0
        async with self._sessions() as session:
            signature = await examples_signature(session)
        if signature == self._learnt_signature:
            return 0
        self.learn()
        return 1

    async def learnt(self) -> None:
        """Wait for the refit in progress, if any (tests and the CLI)."""
        if self._refit is not None:
            await self._refit

    async def stop_learning(self) -> None:
        """Stop a refit in progress (the fit's thread is left to finish): it holds a database
        session, which must be back in the pool before the engine is disposed."""
        if self._refit is not None and not self._refit.done():
            self._refit.cancel()
            await asyncio.gather(self._refit, return_exceptions=True)

    async def _refit_loop(self) -> None:
        assert self._triage is not None
        triager = self._triage
        while True:
            self._refit_again = False
            try:
                dimension = triager.dimension
                if dimension:
                    async with self._sessions() as session:
                        signature = await examples_signature(session)
                    await triager.refit(await learnt(self._sessions, dimension))
                    self._learnt_signature = signature
            except Exception:  # the previous model keeps answering
                log.exception("triage refit failed; the previous model stays")
            if not self._refit_again:
                return

    async def _require_agent(self, actor: Actor, action: Action, case_id: int | None) -> None:
        """Refuse non-agents, keeping a record of the attempt."""
        if actor.is_agent:
            return
        async with self._transaction() as session:
            exists = case_id is not None and await queries.get_case(session, case_id) is not None
            audit(
                session,
                case_id if exists else None,
                "refused",
                actor.label,
                action=action.value,
                user_id=actor.id,
                case=case_id,
            )
        raise NotAllowed(action.value)

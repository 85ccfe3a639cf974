"""The case service: every change to a case, in one transaction with its audit and outbox rows."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.audit import audit
from services.case_intake import CaseIntake
from services.escalation import escalate
from services.outbox import OutboxKind, enqueue
from services.rules import EscalationReason, is_closure, split_note
from services.transitions import Action, next_status
from services.types import Actor, ReplyResult
from storage import queries, storm_queries
from storage.models import Case, Direction, Message


class CaseService(CaseIntake):
    """Opens, continues and changes cases; speaks only in domain types.

    Customers' messages come in through `CaseIntake`; this adds what agents do.
    """

    # --- agents --------------------------------------------------------------------------

    async def agent_message(
        self,
        case_id: int,
        actor: Actor,
        text: str,
        *,
        source: str,
        external_id: str,
        mirror: bool = False,
    ) -> ReplyResult:
        """An agent's message on a case: an internal note (`note:`) or a reply to the customer.

        A reply containing the closure phrase also closes the case. `mirror` copies it into
        the card's thread, for agents who answered from outside Slack (by email).
        """
        internal, body = split_note(text)
        action = Action.NOTE if internal else Action.AGENT_REPLY
        await self._require_agent(actor, action, case_id)
        now = self._clock()
        async with self._transaction() as session:
            case = await self._load(session, case_id)
            if await queries.message_by_external_id(session, source, external_id) is not None:
                return ReplyResult(case=case, internal=internal, duplicate=True)
            case.status = next_status(
                case.number, case.status, action, assigned=bool(case.assignee)
            )
            session.add(
                Message(
                    case_id=case.number,
                    direction=Direction.INTERNAL if internal else Direction.OUTBOUND,
                    author=actor.label,
                    is_agent=True,
                    body=body,
                    source=source,
                    external_id=external_id,
                    created_at=now,
                )
            )
            case.updated_at = now
            if mirror:
                enqueue(
                    session,
                    case,
                    OutboxKind.CASE_THREAD,
                    text=text,
                    author=actor.label,
                    role="agent",
                    via=source,
                )
            if internal:
                audit(session, case.number, "note.added", actor.label)
                return ReplyResult(case=case, internal=True)
            case.last_agent_message_at = now
            case.consecutive_customer_messages = 0
            audit(session, case.number, "reply.sent", actor.label)
            for target in await self._customers_of(session, case):
                enqueue(session, target, OutboxKind.CUSTOMER_REPLY, text=body, author=actor.label)
                target.last_agent_message_at = now
                target.consecutive_customer_messages = 0
            closed = is_closure(body)
            if closed:
                self._close(session, case, actor, now)
            enqueue(session, case, OutboxKind.CASE_CARD)
            return ReplyResult(case=case, internal=False, closed=closed)

    async def claim(self, case_id: int, actor: Actor) -> Case:
        """The agent takes the case."""
        return await self.assign(case_id, actor, assignee=actor.id, action=Action.CLAIM)

    async def assign(
        self, case_id: int, actor: Actor, *, assignee: str, action: Action = Action.ASSIGN
    ) -> Case:
        """Give the case to `assignee` (a Slack user id)."""
        await self._require_agent(actor, action, case_id)
        async with self._transaction() as session:
            case = await self._change(session, case_id, action, actor)
            case.assignee = assignee
            audit(session, case.number, f"case.{action.value}ed", actor.label, assignee=assignee)
            return case

    async def claim_next(self, actor: Actor) -> Case | None:
        """Claim the highest-priority unassigned case, or None when there is none."""
        await self._require_agent(actor, Action.CLAIM, None)
        async with self._transaction() as session:
            top = await queries.queue(session, limit=1, unassigned_only=True, lock=True)
            if not top:
                return None
            case = await self._change(session, top[0].number, Action.CLAIM, actor)
            case.assignee = actor.id
            audit(
                session,
                case.number,
                "case.claimed",
                actor.label,
                assignee=actor.id,
                via="queue next",
            )
            return case

    async def resolve(self, case_id: int, actor: Actor) -> Case:
        """Mark the case resolved and tell the customer; a master incident resolves every
        open child and tells each child's customer on their own channel."""
        await self._require_agent(actor, Action.RESOLVE, case_id)
        async with self._transaction() as session:
            case = await self._change(session, case_id, Action.RESOLVE, actor)
            case.resolved_at = case.updated_at
            audit(session, case.number, "case.resolved", actor.label)
            for target in await self._customers_of(session, case):
                if target is not case:
                    target.status = next_status(
                        target.number, target.status, Action.RESOLVE, assigned=bool(target.assignee)
                    )
                    target.resolved_at = target.updated_at = case.updated_at
                    audit(session, target.number, "case.resolved", actor.label, master=case.number)
                    enqueue(session, target, OutboxKind.CASE_CARD)
                enqueue(session, target, OutboxKind.CUSTOMER_RESOLVED, by=actor.label)
            return case

    async def _customers_of(self, session: AsyncSession, case: Case) -> list[Case]:
        """The cases whose customers hear about `case`: itself, or a master's open children."""
        if not case.is_master:
            return [case]
        return [
            c for c in await storm_queries.children(session, case.number, lock=True) if c.is_active
        ]

    async def reopen(self, case_id: int, actor: Actor) -> Case:
        """Bring a resolved case back to the queue."""
        await self._require_agent(actor, Action.REOPEN, case_id)
        async with self._transaction() as session:
            case = await self._change(session, case_id, Action.REOPEN, actor)
            case.resolved_at = None
            audit(session, case.number, "case.reopened", actor.label)
            return case

    async def escalate(self, case_id: int, actor: Actor) -> Case:
        """A manual escalation: alerts the leads once."""
        await self._require_agent(actor, Action.ESCALATE, case_id)
        async with self._transaction() as session:
            case = await self._change(session, case_id, Action.ESCALATE, actor)
            escalate(
                session,
                case,
                [EscalationReason.MANUAL.value],
                actor=actor,
                now=case.updated_at,
                summary=case.subject,
            )
            return case

    async def close(self, case_id: int, actor: Actor) -> Case:
        """Close for good: the log channel gets the closure line."""
        await self._require_agent(actor, Action.CLOSE, case_id)
        async with self._transaction() as session:
            case = await self._load(session, case_id)
            self._close(session, case, actor, self._clock())
            enqueue(session, case, OutboxKind.CASE_CARD)
            return case

    def _close(self, session: AsyncSession, case: Case, actor: Actor, now: datetime) -> None:
        case.status = next_status(
            case.number, case.status, Action.CLOSE, assigned=bool(case.assignee)
        )
        case.closed_at = case.updated_at = now
        case.closed_by = actor.id
        audit(session, case.number, "case.closed", actor.label)
        enqueue(
            session, case, OutboxKind.CLOSURE_LOG, closed_at=now.isoformat(), closed_by=actor.id
        )

    async def record(self, case_id: int | None, event: str, actor: str, **data: object) -> None:
        """An audit record of something an edge refused or noticed (e.g. a forged sender)."""
        async with self._sessions() as session, session.begin():
            audit(session, case_id, event, actor, **data)

    # --- cards ------------------------------------------------------------------------

    async def card_attempt(self, case_id: int) -> datetime | None:
        """Note that the card is about to be posted; returns when an earlier attempt began.

        Posting and recording the card's ts cannot be one transaction, so a crash between
        them leaves a posted card the database does not know. A retry that finds an earlier
        attempt looks for that card in Slack before posting another.
        """
        async with self._sessions() as session, session.begin():
            case = await self._load(session, case_id)
            earlier = case.card_attempted_at
            if earlier is None:
                case.card_attempted_at = self._clock()
            return earlier

    async def record_card(self, case_id: int, *, channel: str, ts: str) -> None:
        """Remember where the case's card was posted, so later changes update it in place."""
        async with self._sessions() as session, session.begin():
            case = await self._load(session, case_id)
            case.card_channel, case.card_ts = channel, ts
            audit(session, case.number, "card.posted", "casebot", channel=channel, ts=ts)

    # --- helpers -------------------------------------------------------------------------

    async def _change(
        self, session: AsyncSession, case_id: int, action: Action, actor: Actor
    ) -> Case:
        """Apply one transition (or raise InvalidTransition) and queue the card update."""
        case = await self._load(session, case_id)
        case.status = next_status(case.number, case.status, action, assigned=bool(case.assignee))
        case.updated_at = self._clock()
        enqueue(session, case, OutboxKind.CASE_CARD)
        return case

"""The case service: every change to a case, in one transaction with its audit and outbox rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services import customers
from services.audit import audit
from services.case_triage import CaseTriage
from services.escalation import automatic_reasons, escalate
from services.outbox import OutboxKind, enqueue
from services.routing import route
from services.rules import EscalationReason, can_reopen, is_closure, split_note
from services.storms import place
from services.threading import continued_case
from services.transitions import Action, next_status
from services.triage.service import Triage
from services.types import Actor, InboundMessage, IngestResult, ReplyResult
from storage import queries, storm_queries
from storage.models import Attachment, Case, CaseStatus, Direction, Message

SUBJECT_CHARS = 120


def subject_of(body: str, subject: str | None) -> str:
    """The card's title: the given subject, else the first non-empty line of the message."""
    text = (subject or "").strip() or next(
        (ln.strip() for ln in body.splitlines() if ln.strip()), ""
    )
    text = text or "(no text)"
    return text if len(text) <= SUBJECT_CHARS else text[: SUBJECT_CHARS - 1] + "…"


class CaseService(CaseTriage):
    """Opens, continues and changes cases; speaks only in domain types."""

    # --- customers -----------------------------------------------------------------------

    async def ingest(self, inbound: InboundMessage) -> IngestResult:
        """Open a case or continue the customer's live one; a redelivered message is a no-op.

        A message that will open a case is triaged first, outside the transaction (a model
        call must not hold database locks). If another message opened the case meanwhile,
        the triage is simply not used.
        """
        triage = None
        if self._triage is not None and await self._opens(inbound):
            triage = await self._triage.classify(inbound.body)
        try:
            return await self._ingest(inbound, triage)
        except IntegrityError:
            # Another process stored the same message (or customer) first: report the duplicate.
            async with self._sessions() as session:
                stored = await queries.message_by_external_id(
                    session, inbound.source, inbound.external_id
                )
                if stored is None:
                    raise
                case = await queries.get_case(session, stored.case_id)
                assert case is not None
                return IngestResult(case=case, created=False, duplicate=True)

    async def _ingest(self, inbound: InboundMessage, triage: Triage | None) -> IngestResult:
        now = self._clock()
        async with self._transaction() as session:
            stored = await queries.message_by_external_id(
                session, inbound.source, inbound.external_id
            )
            if stored is not None:
                case = await queries.get_case(session, stored.case_id)
                assert case is not None
                return IngestResult(case=case, created=False, duplicate=True)

            customer = await customers.get_or_create(session, inbound.customer)
            assert customer.id is not None
            case = await continued_case(session, inbound, customer.id)
            created = reopened = False
            if case is not None and case.status == CaseStatus.RESOLVED:
                if can_reopen(case.resolved_at, now, self._rules.reopen_window_hours):
                    case.status = next_status(
                        case.number,
                        case.status,
                        Action.CUSTOMER_MESSAGE,
                        assigned=bool(case.assignee),
                    )
                    case.resolved_at = None
                    reopened = True
                    audit(
                        session,
                        case.number,
                        "case.reopened",
                        customer.name or "customer",
                        by="customer",
                    )
                else:
                    case = None
            if case is None:
                case = await self._open(session, inbound, customer.id, now, triage)
                created = True

            session.add(
                Message(
                    case_id=case.number,
                    direction=Direction.INBOUND,
                    author=inbound.customer.name or "customer",
                    body=inbound.body,
                    source=inbound.source,
                    external_id=inbound.external_id,
                    created_at=now,
                )
            )
            case.last_customer_message_at = now
            case.consecutive_customer_messages += 1
            case.updated_at = now
            if not created:
                audit(session, case.number, "message.received", inbound.customer.name or "customer")
            else:
                if triage is not None and triage.vector is not None and self._storms is not None:
                    await place(session, case, triage.vector, now, self._storms)
                if case.master_id is None:
                    await self._route(session, case)
            # A storm's child has no card of its own: its messages go to the master's thread,
            # and the master carries the one alert.
            shown = await self._load(session, case.master_id) if case.master_id else case
            # The card first: the thread mirror is posted under it.
            enqueue(session, shown, OutboxKind.CASE_CARD)
            enqueue(
                session,
                shown,
                OutboxKind.CASE_THREAD,
                text=inbound.body,
                author=inbound.customer.name,
            )
            await self._attach(session, case, inbound, shown)
            escalated: list[str] = []
            if case.master_id is None:
                escalated = escalate(
                    session,
                    case,
                    automatic_reasons(case, now, self._rules, inbound.body),
                    actor=Actor(id="rules", name="rules"),
                    now=now,
                    summary=inbound.body,
                )
            return IngestResult(
                case=case, created=created, reopened=reopened, escalated=tuple(escalated)
            )

    async def _route(self, session: AsyncSession, case: Case) -> None:
        """Give a new, triaged case to the least-loaded agent with its skills, if any."""
        if self._triage is None or case.request_type is None:
            return
        skills = self._triage.catalog.request_type(case.request_type).skills
        agent = await route(session, skills)
        if agent is None:
            return
        case.status = next_status(case.number, case.status, Action.ASSIGN, assigned=False)
        case.assignee = agent
        audit(session, case.number, "case.routed", "routing", assignee=agent, skills=list(skills))

    async def _attach(
        self, session: AsyncSession, case: Case, inbound: InboundMessage, shown: Case
    ) -> None:
        """Keep the message's files; the ones small enough go to the thread of the card that
        shows the case (`shown`: the case itself, or its master incident)."""
        for file in inbound.attachments:
            row = Attachment(
                case_id=case.number,
                message_external_id=inbound.external_id,
                filename=file.filename[:255] or "attachment",
                content_type=file.content_type[:255],
                size=file.size,
                content=file.content,
                created_at=case.updated_at,
            )
            session.add(row)
            if file.content is not None:
                await session.flush()
                enqueue(session, shown, OutboxKind.CASE_ATTACHMENT, attachment_id=row.id)

    async def _open(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        customer_id: int,
        now: datetime,
        triage: Triage | None,
    ) -> Case:
        case = Case(
            customer_id=customer_id,
            subject=subject_of(inbound.body, inbound.subject),
            source=inbound.source,
            origin_channel=inbound.origin_channel,
            origin_thread_ts=inbound.origin_thread_ts,
            created_at=now,
            updated_at=now,
        )
        if triage is not None and self._triage is not None:
            self._apply(case, triage, now)
        session.add(case)
        await session.flush()
        audit(
            session,
            case.number,
            "case.opened",
            inbound.customer.name or "customer",
            source=inbound.source,
        )
        if case.request_type is not None:
            audit(
                session,
                case.number,
                "case.triaged",
                "triage",
                request_type=case.request_type,
                confidence=case.triage_confidence,
                urgency=case.urgency,
                source=case.triage_source,
            )
        if inbound.allow_auto_reply:
            enqueue(session, case, OutboxKind.CUSTOMER_ACK)
        else:
            audit(session, case.number, "ack.suppressed", "casebot", reason="automatic sender")
        return case

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

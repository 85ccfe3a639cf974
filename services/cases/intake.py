"""Customers' side of the case service: a message opens or continues a case, is triaged,
folded into a storm or routed, mirrored, and may escalate."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services import customers
from services.audit import audit
from services.cases.context import CaseContext, load
from services.cases.intake_line import IntakeLine, NeedsTriage
from services.cases.senders import first_contacts, same_sender, sender_scoped
from services.cases.transition import transition
from services.cases.triage import apply
from services.escalation import automatic_reasons, escalate
from services.outbox import OutboxKind, enqueue
from services.routing import route
from services.rules import can_reopen
from services.storms import forget_storms, place, storm_lock
from services.threading import continued_case
from services.transitions import Action
from services.triage.service import Triage
from services.types import Actor, InboundMessage, IngestResult
from services.visible import visible
from storage import queries
from storage.models import Attachment, Case, CaseStatus, Direction, Message

SUBJECT_CHARS = 120


def subject_of(body: str, subject: str | None) -> str:
    """The card's title: the given subject, else the first non-empty line of the message."""
    text = visible(subject or "") or next(
        (shown for ln in body.splitlines() if (shown := visible(ln))), ""
    )
    text = text or "(no text)"
    return text if len(text) <= SUBJECT_CHARS else text[: SUBJECT_CHARS - 1] + "…"


class CaseIntake:
    """Customer messages in; speaks only in domain types."""

    def __init__(self, ctx: CaseContext) -> None:
        self._ctx = ctx
        self._line = IntakeLine(
            ctx.transaction, self._stored, self._classify, begin=self._begin, screen=self._new
        )

    async def ingest(self, inbound: InboundMessage) -> IngestResult:
        """Open a case or continue the customer's live one; a redelivered message is a no-op.

        Stored in line with the other messages waiting (services/cases/intake_line): one
        pass of look-ups, in the transaction that stores the message. A message that opens
        a case while triage is on is classified first, outside any transaction, and passed
        again with the answer; if another message opened the case meanwhile, the answer is
        simply not used.
        """
        if inbound.customer.name:  # shown in headings: nothing invisible or reversed in it
            name = visible(inbound.customer.name)[:200]
            inbound = replace(inbound, customer=replace(inbound.customer, name=name))
        return await self._line.submit(inbound)

    async def _classify(self, text: str) -> Triage:
        assert self._ctx.triage is not None
        return await self._ctx.triage.classify(text)

    async def _begin(self, session: AsyncSession, opens: bool) -> None:
        """A group that opens cases takes the storm lock before any case row: two processes'
        groups then never wait on each other's rows in opposite orders."""
        if opens and self._ctx.storms is not None:
            await storm_lock(session)

    async def _new(self, session: AsyncSession, messages: list[InboundMessage]) -> list[bool]:
        """With triage on, a first contact opens a case: classified before its one pass."""
        if self._ctx.triage is None:
            return [False] * len(messages)
        return await first_contacts(session, messages)

    async def _stored(
        self, session: AsyncSession, inbound: InboundMessage, triage: Triage | None
    ) -> IngestResult:
        """The message's pass in a savepoint of its own (rolled back alone if it fails)."""
        try:
            async with session.begin_nested():
                return await self._ingest(session, inbound, triage)
        except NeedsTriage:
            raise
        except Exception as error:
            forget_storms(session)  # the cases it placed were rolled back with it
            if not isinstance(error, IntegrityError):
                raise
            # Another process stored the same message (or customer) first: a duplicate.
            stored = await queries.message_by_external_id(
                session, inbound.source, inbound.external_id
            )
            if stored is None:
                raise
            case = await queries.get_case(session, stored.case_id)
            assert case is not None
            return IngestResult(case=case, created=False, duplicate=True)

    async def _ingest(
        self, session: AsyncSession, inbound: InboundMessage, triage: Triage | None
    ) -> IngestResult:
        ctx = self._ctx
        now = ctx.clock()
        stored = await queries.message_by_external_id(session, inbound.source, inbound.external_id)
        if stored is not None and not await same_sender(session, stored, inbound):
            # Someone else's mail took this Message-ID first (a guess, or a forgery):
            # this one is no copy of it, and is kept under an id of its own.
            taken_by, message_id = stored.case_id, inbound.external_id
            inbound = replace(inbound, external_id=sender_scoped(inbound))
            stored = await queries.message_by_external_id(
                session, inbound.source, inbound.external_id
            )
            if stored is None:
                who = inbound.customer.email or "customer"
                audit(session, taken_by, "email.message_id_reused", who, message_id=message_id)
        if stored is not None:
            case = await queries.get_case(session, stored.case_id)
            assert case is not None
            return IngestResult(case=case, created=False, duplicate=True)

        customer = await customers.get_or_create(session, inbound.customer)
        assert customer.id is not None
        case = await continued_case(session, inbound, customer.id)
        created = reopened = False
        if case is not None and case.status == CaseStatus.RESOLVED:
            if can_reopen(case.resolved_at, now, ctx.rules.reopen_window_hours):
                transition(
                    session,
                    case,
                    Action.CUSTOMER_MESSAGE,
                    now=now,
                    actor=customer.name or "customer",
                    event="case.reopened",
                    card=False,  # below, on the card that shows it
                    by="customer",
                )
                reopened = True
            else:
                case = None
        if case is None:
            if ctx.triage is not None and triage is None:
                raise NeedsTriage()  # classified outside any transaction, then again
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
        if not created:  # a new case was inserted with these already (no UPDATE after)
            case.last_customer_message_at = now
            case.consecutive_customer_messages += 1
            case.updated_at = now
            audit(session, case.number, "message.received", inbound.customer.name or "customer")
        else:
            if triage is not None and triage.vector is not None and ctx.storms is not None:
                await place(session, case, triage.vector, now, ctx.storms)
            if case.master_id is None:
                await self._route(session, case)
        # A storm's child has no card of its own: its messages go to the master's thread,
        # and the master carries the one alert.
        shown = await load(session, case.master_id) if case.master_id else case
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
                automatic_reasons(case, now, ctx.rules, inbound.body),
                actor=Actor(id="rules", name="rules"),
                now=now,
                summary=inbound.body,
            )
        return IngestResult(
            case=case, created=created, reopened=reopened, escalated=tuple(escalated)
        )

    async def _route(self, session: AsyncSession, case: Case) -> None:
        """Give a new, triaged case to the least-loaded agent with its skills, if any."""
        triage = self._ctx.triage
        if triage is None or case.request_type is None:
            return
        skills = triage.catalog.request_type(case.request_type).skills
        agent = await route(session, skills)
        if agent is None:
            return
        transition(
            session,
            case,
            Action.ASSIGN,
            now=case.updated_at,
            actor="routing",
            event="case.routed",
            card=False,  # a new case: its first card is queued by ingest
            assignee=agent,
            skills=list(skills),
        )
        case.assignee = agent

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
            last_customer_message_at=now,
            consecutive_customer_messages=1,  # the message that opens it
        )
        if triage is not None and self._ctx.triage is not None:
            apply(self._ctx.triage.catalog, case, triage, now)
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
        if self._ctx.sync_tickets:  # its own ordering stream: never holds back the card
            enqueue(session, case, OutboxKind.TICKET_SYNC, message=inbound.body)
        if inbound.allow_auto_reply:
            vouched = {"sender_authenticated": True} if inbound.sender_authenticated else {}
            enqueue(session, case, OutboxKind.CUSTOMER_ACK, **vouched)
        else:
            audit(session, case.number, "ack.suppressed", "casebot", reason="automatic sender")
        return case

"""Agents' side of the case service: replies and notes, claiming, resolving, escalating and
closing, each in one transaction with its audit entry and outbox rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.assist.remember import remember
from services.audit import audit
from services.cases import ratings
from services.cases.context import CaseContext, load
from services.cases.transition import close_case, transition
from services.escalation import escalate
from services.outbox import OutboxKind, enqueue
from services.rules import EscalationReason, is_closure, split_note
from services.transitions import Action
from services.types import Actor, IncomingAttachment, ReplyResult
from storage import queries, storm_queries
from storage.models import Attachment, Case, Direction, Message


class AgentActions:
    def __init__(self, ctx: CaseContext) -> None:
        self._ctx = ctx

    async def message(
        self,
        *,
        case_id: int,
        actor: Actor,
        text: str,
        source: str,
        external_id: str,
        mirror: bool = False,
        undoable: bool = False,
        attachments: Sequence[IncomingAttachment] = (),
    ) -> ReplyResult:
        """An agent's message on a case: an internal note (`note:`) or a reply to the customer.

        A reply containing the closure phrase also closes the case (at once). `mirror` copies
        it into the card's thread, for agents who answered from outside Slack (by email).
        `undoable`: the agent can withdraw or edit it (services.cases.replies), so it waits
        out the undo window (RulesConfig.reply_undo_seconds) before it goes. The kept
        `attachments` of a reply go to the customer with it (a note's stay where they are).
        """
        ctx = self._ctx
        internal, body = split_note(text)
        action = Action.NOTE if internal else Action.AGENT_REPLY
        await ctx.require_agent(actor, action, case_id)
        now = ctx.clock()
        async with ctx.transaction() as session:
            case = await load(session, case_id)
            if await queries.message_by_external_id(session, source, external_id) is not None:
                return ReplyResult(case=case, internal=internal, duplicate=True)
            # The card is queued last, after the mirror and the closure (one stream, in order).
            transition(session, case, action, now=now, card=False)
            message = Message(
                case_id=case.number,
                direction=Direction.INTERNAL if internal else Direction.OUTBOUND,
                author=actor.label,
                is_agent=True,
                body=body,
                source=source,
                external_id=external_id,
                created_at=now,
            )
            session.add(message)
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
            closed = is_closure(body)
            window = ctx.rules.reply_undo_seconds if undoable and not closed else 0.0
            sends_at = now + timedelta(seconds=window) if window > 0 else None
            files = [
                Attachment(
                    case_id=case.number,
                    message_external_id=external_id,
                    filename=file.filename,
                    content_type=file.content_type,
                    size=file.size,
                    content=file.content,
                    created_at=now,
                )
                for file in attachments
                if file.content is not None
            ]
            session.add_all(files)
            await session.flush()  # the message's and the files' ids, for their deliveries
            for target in await _customers_of(session, case):
                item = enqueue(
                    session,
                    target,
                    OutboxKind.CUSTOMER_REPLY,
                    text=body,
                    author=actor.label,
                    author_id=actor.id,
                    **({"attachment_ids": [f.id for f in files]} if files else {}),
                )
                item.message_id = message.id
                item.next_attempt_at = sends_at
                target.last_agent_message_at = now
                target.consecutive_customer_messages = 0
            if closed:
                await session.flush()  # the closing reply is the answer to remember
                await remember(session, case)
                close_case(session, case, actor, now)
            enqueue(session, case, OutboxKind.CASE_CARD)
            return ReplyResult(case=case, internal=False, closed=closed, sends_at=sends_at)

    async def claim(self, *, case_id: int, actor: Actor) -> Case:
        """The agent takes the case."""
        return await self.assign(case_id=case_id, actor=actor, assignee=actor.id, how=Action.CLAIM)

    async def assign(
        self, *, case_id: int, actor: Actor, assignee: str, how: Action = Action.ASSIGN
    ) -> Case:
        """Give the case to `assignee` (a Slack user id)."""
        await self._ctx.require_agent(actor, how, case_id)
        async with self._ctx.transaction() as session:
            case = await load(session, case_id)
            transition(
                session,
                case,
                how,
                now=self._ctx.clock(),
                actor=actor.label,
                event=f"case.{how.value}ed",
                assignee=assignee,
            )
            case.assignee = assignee
            return case

    async def claim_next(self, *, actor: Actor) -> Case | None:
        """Claim the highest-priority unassigned case, or None when there is none."""
        await self._ctx.require_agent(actor, Action.CLAIM, None)
        async with self._ctx.transaction() as session:
            top = await queries.queue(session, limit=1, unassigned_only=True, lock=True)
            if not top:
                return None
            case = await load(session, top[0].number)
            transition(
                session,
                case,
                Action.CLAIM,
                now=self._ctx.clock(),
                actor=actor.label,
                event="case.claimed",
                assignee=actor.id,
                via="queue next",
            )
            case.assignee = actor.id
            return case

    async def resolve(self, *, case_id: int, actor: Actor) -> Case:
        """Mark the case resolved and tell the customer; a master incident resolves every
        open child and tells each child's customer on their own channel."""
        await self._ctx.require_agent(actor, Action.RESOLVE, case_id)
        async with self._ctx.transaction() as session:
            case = await load(session, case_id)
            now = self._ctx.clock()
            transition(
                session, case, Action.RESOLVE, now=now, actor=actor.label, event="case.resolved"
            )
            await remember(session, case)  # its answer may answer the next one like it
            for target in await _customers_of(session, case):
                if target is not case:
                    transition(
                        session,
                        target,
                        Action.RESOLVE,
                        now=now,
                        actor=actor.label,
                        event="case.resolved",
                        master=case.number,
                    )
                token = await ratings.ask(
                    session, target, now, by_email=self._ctx.rules.ratings_by_email
                )
                enqueue(session, target, OutboxKind.CUSTOMER_RESOLVED, by=actor.label, rating=token)
            return case

    async def reopen(self, *, case_id: int, actor: Actor) -> Case:
        """Bring a resolved case back to the queue."""
        await self._ctx.require_agent(actor, Action.REOPEN, case_id)
        async with self._ctx.transaction() as session:
            case = await load(session, case_id)
            return transition(
                session,
                case,
                Action.REOPEN,
                now=self._ctx.clock(),
                actor=actor.label,
                event="case.reopened",
            )

    async def escalate(self, *, case_id: int, actor: Actor) -> Case:
        """A manual escalation: alerts the leads once."""
        await self._ctx.require_agent(actor, Action.ESCALATE, case_id)
        async with self._ctx.transaction() as session:
            case = await load(session, case_id)
            transition(session, case, Action.ESCALATE, now=self._ctx.clock())
            escalate(
                session,
                case,
                [EscalationReason.MANUAL.value],
                actor=actor,
                now=case.updated_at,
                summary=case.subject,
            )
            return case

    async def close(self, *, case_id: int, actor: Actor, reason: str | None = None) -> Case:
        """Close for good: the log channel gets the closure line; `reason` is audited."""
        await self._ctx.require_agent(actor, Action.CLOSE, case_id)
        async with self._ctx.transaction() as session:
            case = await load(session, case_id)
            close_case(session, case, actor, self._ctx.clock(), reason=reason)
            enqueue(session, case, OutboxKind.CASE_CARD)
            return case


async def _customers_of(session: AsyncSession, case: Case) -> list[Case]:
    """The cases whose customers hear about `case`: itself, or a master's open children."""
    if not case.is_master:
        return [case]
    return [c for c in await storm_queries.children(session, case.number, lock=True) if c.is_active]

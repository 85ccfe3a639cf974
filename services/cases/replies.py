"""An agent's reply in its undo window: withdrawn (the Undo button, or the Slack message
deleted) or edited (the Slack message changed) before it reaches the customer.

A reply written with `undoable=True` waits `RulesConfig.reply_undo_seconds` in the outbox;
while none of its deliveries has been claimed, it can still be changed. After that the
customer has it (or is getting it) and the answer is TOO_LATE: we never half-withdraw.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.audit import audit
from services.cases.context import CaseContext
from services.rules import split_note
from services.transitions import Action
from services.types import Actor, ReplyChange
from storage import outbox_queries, queries
from storage.models import Direction, Message, OutboxItem, OutboxStatus


class ReplyWindow:
    def __init__(self, ctx: CaseContext) -> None:
        self._ctx = ctx

    async def withdraw(
        self, *, source: str, external_id: str, actor: Actor, how: str
    ) -> ReplyChange:
        """Take back the reply stored as (`source`, `external_id`); `how` is audited
        ("undo": the button, "deleted": the message deleted in Slack)."""
        ctx = self._ctx
        await self._require_agent(actor, source, external_id)
        async with ctx.transaction() as session:
            found = await _held(session, source, external_id)
            if isinstance(found, ReplyChange):
                return found
            message, rows = found
            await outbox_queries.cancel(session, [row.id for row in rows if row.id is not None])
            message.deleted_at = ctx.clock()
            audit(
                session,
                message.case_id,
                "reply.withdrawn",
                actor.label,
                how=how,
                text=message.body,
                message_id=message.id,
            )
            return ReplyChange.WITHDRAWN

    async def edit(self, *, source: str, external_id: str, actor: Actor, text: str) -> ReplyChange:
        """The agent changed the reply's Slack message: the customer gets the new text, if it
        has not gone. An edit that turns it into a note (`note:`) withdraws it."""
        internal, body = split_note(text)
        if internal:
            return await self.withdraw(
                source=source, external_id=external_id, actor=actor, how="edited into a note"
            )
        ctx = self._ctx
        await self._require_agent(actor, source, external_id)
        async with ctx.transaction() as session:
            found = await _held(session, source, external_id)
            if isinstance(found, ReplyChange):
                return found
            message, rows = found
            before = message.body
            for row in rows:
                row.payload = {**row.payload, "text": body}  # a new dict: JSON is not tracked
            message.body = body
            message.edited_at = ctx.clock()
            audit(
                session,
                message.case_id,
                "reply.edited",
                actor.label,
                before=before,
                after=body,
                message_id=message.id,
            )
            return ReplyChange.EDITED

    async def _require_agent(self, actor: Actor, source: str, external_id: str) -> None:
        """Refuse a non-agent (a forged click), on the record of the reply's case."""
        if actor.is_agent:
            return
        async with self._ctx.sessions() as session:
            message = await queries.message_by_external_id(session, source, external_id)
        case_id = message.case_id if message is not None else None
        await self._ctx.require_agent(actor, Action.AGENT_REPLY, case_id)


async def _held(
    session: AsyncSession, source: str, external_id: str
) -> tuple[Message, list[OutboxItem]] | ReplyChange:
    """The reply and its deliveries when every one of them is still waiting; else why not."""
    message = await queries.message_by_external_id(session, source, external_id)
    if message is None or message.direction != Direction.OUTBOUND or message.id is None:
        return ReplyChange.UNKNOWN
    if message.deleted_at is not None:
        return ReplyChange.WITHDRAWN  # a second click, or the delete after the undo
    rows = await outbox_queries.of_message(session, message.id)
    if not rows:
        return ReplyChange.UNKNOWN  # a reply written before undo windows existed
    if any(
        row.status != OutboxStatus.PENDING or row.claimed_by is not None or row.attempts
        for row in rows
    ):
        return ReplyChange.TOO_LATE
    return message, rows

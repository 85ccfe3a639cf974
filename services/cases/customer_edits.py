"""A customer changed or deleted a message they had sent (Slack's `message_changed` and
`message_deleted`): the stored copy follows, the audit trail keeps what it said before, and
the card's thread is told. Only the case's own customer can change their message."""

from __future__ import annotations

from enum import StrEnum

from services.audit import audit
from services.cases.context import CaseContext, load
from services.outbox import OutboxKind, enqueue
from storage import queries
from storage.models import Customer, Direction


class CustomerChange(StrEnum):
    EDITED = "edited"
    DELETED = "deleted"
    UNCHANGED = "unchanged"  # the same text (Slack also says so for unfurls and reply counts)
    UNKNOWN = "unknown"  # not a customer's message of a case, or not this person's


class CustomerEdits:
    def __init__(self, ctx: CaseContext) -> None:
        self._ctx = ctx

    async def changed(
        self, *, source: str, external_id: str, slack_user: str, text: str | None
    ) -> CustomerChange:
        """The message stored as (`source`, `external_id`) now says `text`; None: deleted.
        The mirror goes under the card the case's messages go to (a storm's master)."""
        ctx = self._ctx
        async with ctx.transaction() as session:
            message = await queries.message_by_external_id(session, source, external_id)
            if message is None or message.direction is not Direction.INBOUND:
                return CustomerChange.UNKNOWN
            case = await load(session, message.case_id)
            customer = await session.get(Customer, case.customer_id)
            if customer is None or customer.slack_user_id != slack_user:
                return CustomerChange.UNKNOWN
            if message.deleted_at is not None:
                return CustomerChange.UNCHANGED  # a deleted message stays deleted
            if text == message.body:
                return CustomerChange.UNCHANGED
            shown = await load(session, case.master_id) if case.master_id else case
            now = ctx.clock()
            author = customer.name or "Customer"
            sent = message.created_at.strftime("%Y-%m-%d %H:%M UTC")
            if text is None:
                message.deleted_at = now
                # The text is not posted again: a customer may delete what they should not
                # have sent (a password); the audit trail keeps it for the record.
                audit(
                    session,
                    case.number,
                    "message.deleted",
                    author,
                    before=message.body,
                    message_id=message.id,
                )
                enqueue(
                    session,
                    shown,
                    OutboxKind.CASE_THREAD,
                    role="deleted",
                    author=author,
                    sent=sent,
                    text="",
                )
                return CustomerChange.DELETED
            audit(
                session,
                case.number,
                "message.edited",
                author,
                before=message.body,
                after=text,
                message_id=message.id,
            )
            message.body, message.edited_at = text, now
            enqueue(
                session,
                shown,
                OutboxKind.CASE_THREAD,
                role="edited",
                author=author,
                sent=sent,
                text=text,
            )
            return CustomerChange.EDITED

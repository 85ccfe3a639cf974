"""A resolved case becomes history to suggest replies from: what its customer first asked,
and the agent's last reply, with the customer's name and the case number as placeholders."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.assist.history import MAX_TEXT, templated
from storage.models import Case, Customer, Direction, Message, ReplyHistory

FIRST_MESSAGES = 3


async def remember(session: AsyncSession, case: Case) -> None:
    """Keep (or update) the case's row of reply history, in the caller's transaction; a
    case with no customer text or no reply yet teaches nothing."""
    live = (Message.case_id == case.number, col(Message.deleted_at).is_(None))
    asked = await session.exec(
        select(Message.body)
        .where(*live, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id))
        .limit(FIRST_MESSAGES)
    )
    answered = await session.exec(
        select(Message.body)
        .where(*live, Message.direction == Direction.OUTBOUND)
        .order_by(col(Message.id).desc())
        .limit(1)
    )
    text, reply = "\n".join(asked.all())[:MAX_TEXT].strip(), answered.first()
    if not text or not reply or not reply.strip():
        return
    customer = await session.get(Customer, case.customer_id)
    template = templated(reply, customer.name if customer else "", case.number)
    row = (
        await session.exec(select(ReplyHistory).where(ReplyHistory.case_id == case.number))
    ).first()
    if row is None:
        session.add(
            ReplyHistory(
                case_id=case.number,
                text=text,
                reply=template,
                request_type=case.request_type,
                source="case",
            )
        )
    elif (row.text, row.reply, row.request_type) != (text, template, case.request_type):
        row.text, row.reply, row.request_type, row.vector = (
            text,
            template,
            case.request_type,
            None,
        )

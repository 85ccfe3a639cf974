"""What must leave the process, written as outbox rows in the caller's transaction.

Kinds are semantic ("tell the customer", "alert the leads"); the delivery layer decides
which channel, API or address that means, so the domain never knows about Slack or SMTP.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, OutboxItem


class OutboxKind(StrEnum):
    CASE_CARD = "case.card"  # post the case card, or update it in place once posted
    CASE_THREAD = "case.thread"  # mirror a message into the card's thread
    CUSTOMER_ACK = "customer.ack"  # "case #N opened" to the customer
    CUSTOMER_REPLY = "customer.reply"  # an agent's reply to the customer
    CUSTOMER_RESOLVED = "customer.resolved"  # the resolution notice
    ESCALATION_ALERT = "alert.escalation"  # to the alerts channel, once per reason
    CLOSURE_LOG = "log.closure"  # "Case #N closed at … by …" to the log channel


def ordering_key(case_id: int) -> str:
    """All deliveries of one case go out in the order they were written."""
    return f"case:{case_id}"


def enqueue(session: AsyncSession, case: Case, kind: OutboxKind, **payload: Any) -> OutboxItem:
    """Add one delivery for `case` to the current transaction."""
    item = OutboxItem(
        kind=kind.value,
        ordering_key=ordering_key(case.number),
        case_id=case.number,
        payload=payload,
    )
    session.add(item)
    return item

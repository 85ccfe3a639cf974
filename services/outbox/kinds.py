"""What must leave the process, written as outbox rows in the caller's transaction.

Kinds are semantic ("tell the customer", "alert the leads"). The channel a row goes out on
is decided here, when it is written, and stored with it: the team's deliveries go to Slack,
a customer's to the channel they wrote from. Wiring registers one sender per channel; the
domain never knows about Slack or SMTP.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.types import Channel
from storage.models import Case, OutboxItem


class DeliveryDeferred(Exception):
    """Raised by a delivery that cannot go now but will later (a channel posting at its rate
    limit): the row is tried again after `seconds`, and no failed attempt is counted."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


class NoSender(Exception):
    """A row's channel has no sender in this process (its settings are not configured)."""


class Undeliverable(Exception):
    """The receiving side refused this row for good (a mail server's 5xx for the recipient or
    the message): retrying cannot help, so it is not retried."""


class OutboxKind(StrEnum):
    CASE_CARD = "case.card"  # post the case card, or update it in place once posted
    CASE_THREAD = "case.thread"  # mirror a message into the card's thread
    CASE_ATTACHMENT = "case.attachment"  # upload a customer's file into the card's thread
    CUSTOMER_ACK = "customer.ack"  # "case #N opened" to the customer
    CUSTOMER_REPLY = "customer.reply"  # an agent's reply to the customer
    CUSTOMER_RESOLVED = "customer.resolved"  # the resolution notice
    CUSTOMER_REMINDER = "customer.reminder"  # "still working on it", once, REMINDER_HOURS in
    CUSTOMER_NUDGE = "customer.nudge"  # "we asked you something", once per unanswered question
    ESCALATION_ALERT = "alert.escalation"  # to the alerts channel, once per reason
    RATING_ALERT = "alert.rating"  # a low customer rating, to the alerts channel
    CLOSURE_LOG = "log.closure"  # "Case #N closed at … by …" to the log channel
    REPORT_EMAIL = "report.email"  # a report's file to one of REPORT_RECIPIENTS
    REPORT_UPLOAD = "report.upload"  # a report's file into the requesting agent's DM
    TICKET_SYNC = "ticket.sync"  # the new case to the external ticket system (TICKET_API_URL)


# Deliveries that reach the customer on the customer's own channel (Slack, email, webhook).
CUSTOMER_KINDS = frozenset(
    {
        OutboxKind.CUSTOMER_ACK,
        OutboxKind.CUSTOMER_REPLY,
        OutboxKind.CUSTOMER_RESOLVED,
        OutboxKind.CUSTOMER_REMINDER,
        OutboxKind.CUSTOMER_NUDGE,
    }
)

# Machine-written customer mail: never sent to robots, capped per recipient per hour.
AUTOMATIC_KINDS = frozenset(
    {
        OutboxKind.CUSTOMER_ACK,
        OutboxKind.CUSTOMER_RESOLVED,
        OutboxKind.CUSTOMER_REMINDER,
        OutboxKind.CUSTOMER_NUDGE,
    }
)


# Deliveries of a report (no case): see services.reports.
REPORT_KINDS = frozenset({OutboxKind.REPORT_EMAIL, OutboxKind.REPORT_UPLOAD})


def ordering_key(case_id: int, kind: OutboxKind) -> str:
    """A case's deliveries go out in the order they were written, in two streams: what the
    team sees in Slack, and what the customer receives. A customer channel that is down
    (SMTP, a webhook provider) must not hold back the card the agents work from. The ticket
    sync has a stream of its own: an external system that is down holds back neither."""
    if kind == OutboxKind.TICKET_SYNC:
        return f"case:{case_id}:ticket"
    return f"case:{case_id}:customer" if kind in CUSTOMER_KINDS else f"case:{case_id}"


def channel_for(source: str, kind: OutboxKind) -> str:
    """The channel a case's delivery goes out on: customers are answered where they wrote
    (API customers the webhook's way), everything else is the team's, in Slack."""
    if kind == OutboxKind.TICKET_SYNC:
        return Channel.TICKETS
    if kind not in CUSTOMER_KINDS:
        return Channel.SLACK
    return Channel.WEBHOOK if source == Channel.API else source


def enqueue(session: AsyncSession, case: Case, kind: OutboxKind, **payload: Any) -> OutboxItem:
    """Add one delivery for `case` to the current transaction."""
    item = OutboxItem(
        kind=kind.value,
        channel=channel_for(case.source, kind),
        ordering_key=ordering_key(case.number, kind),
        case_id=case.number,
        payload=payload,
    )
    session.add(item)
    return item

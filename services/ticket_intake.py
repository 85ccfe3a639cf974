"""Tickets posted to `POST /tickets`: stored at once (the caller gets 202), then filed as a
customer message by a worker, so that a slow model or a crash never loses one.

A ticket goes pending → processing → completed (or failed after `MAX_ATTEMPTS`). Filing is
idempotent: the message's external id is the ticket's id, so a ticket filed twice (a worker
died after filing, before recording it) is one message on one case.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.cases import CaseService
from services.types import Channel, CustomerIdentity, InboundMessage
from storage import queries, ticket_queries
from storage.engine import SessionFactory
from storage.models import Case, SubmittedTicket, TicketIntakeStatus, utcnow

log = logging.getLogger(__name__)

CHANNEL = "tickets"  # the case's origin channel when the ticket names none
MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=120)  # a worker that holds a ticket longer is presumed dead
ERROR_CHARS = 300  # submitted_tickets.last_error


def backoff(attempts: int) -> timedelta:
    """How long a ticket rests after its n-th failed attempt: 2 s doubling, at most 5 min."""
    return timedelta(seconds=min(300.0, 2.0 ** max(1, attempts)))


@dataclass(frozen=True)
class NewTicket:
    """What a caller submitted, already validated by the edge."""

    text: str
    subject: str | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class TicketState:
    """A ticket and, once filed, its case and the case's master incident."""

    ticket: SubmittedTicket
    case: Case | None = None
    master: Case | None = None


class TicketIntake:
    """Accepts tickets and files them as cases."""

    def __init__(
        self,
        sessions: SessionFactory,
        cases: CaseService,
        *,
        holder: str,
        clock: Callable[[], datetime] = utcnow,
        notify: Callable[[], None] = lambda: None,
        lease: timedelta = LEASE,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._sessions = sessions
        self._cases = cases
        self._holder = holder  # this process, in held_by
        self._clock = clock
        self._notify = notify  # wakes this process's worker after a submit
        self._lease = lease
        self._max_attempts = max_attempts

    async def submit(self, new: NewTicket) -> SubmittedTicket:
        """Store the ticket (committed before the caller is answered) and wake the worker."""
        ticket = SubmittedTicket(
            id=uuid.uuid4().hex,
            payload={
                "text": new.text,
                "subject": new.subject,
                "customer_id": new.customer_id,
                "customer_name": new.customer_name,
                "channel": new.channel,
            },
            created_at=self._clock(),
        )
        async with self._sessions() as session, session.begin():
            session.add(ticket)
        self._notify()
        return ticket

    async def state(self, ticket_id: str) -> TicketState | None:
        """The ticket with its case and master incident, or None for an unknown id."""
        async with self._sessions() as session:
            ticket = await session.get(SubmittedTicket, ticket_id)
            if ticket is None:
                return None
            case = await queries.get_case(session, ticket.case_id) if ticket.case_id else None
            master = (
                await queries.get_case(session, case.master_id)
                if case is not None and case.master_id is not None
                else None
            )
            return TicketState(ticket, case, master)

    async def process_due(self, *, limit: int = 32) -> int:
        """File up to `limit` due tickets, oldest first; how many it handled.

        The batch is taken in one transaction and recorded in one: on SQLite every commit
        waits for the disk, and three per ticket made filing a backlog several times slower
        than Slack intake. Different customers' tickets are filed concurrently, so that their
        texts are encoded together; one customer's are filed in order, each continuing the
        case the one before opened.
        """
        now = self._clock()
        async with self._sessions() as session, session.begin():
            due = await ticket_queries.due(session, now, limit=limit)
            held = await ticket_queries.hold_all(
                session, [t.id for t in due], now, now + self._lease, self._holder
            )
        by_customer: dict[str, list[SubmittedTicket]] = {}
        for ticket in held:  # oldest first
            by_customer.setdefault(customer_key(ticket), []).append(ticket)
        outcomes = await asyncio.gather(*(self._in_order(group) for group in by_customer.values()))
        filed = [(ticket, case) for group in outcomes for ticket, case in group if case]
        if filed:
            async with self._sessions() as session, session.begin():
                for ticket, case_number in filed:
                    await ticket_queries.settle(
                        session,
                        ticket.id,
                        self._holder,
                        status=TicketIntakeStatus.COMPLETED,
                        case_id=case_number,
                        held_until=None,
                        completed_at=self._clock(),
                        last_error=None,
                    )
            for ticket, case_number in filed:
                log.info(
                    "ticket %s filed on case #%s",
                    ticket.id,
                    case_number,
                    extra={"case": case_number},
                )
        return len(held)

    async def _in_order(self, tickets: list[SubmittedTicket]) -> list[tuple[SubmittedTicket, int]]:
        """File one customer's tickets in turn: each with its case number, 0 when it failed."""
        return [(ticket, await self._file(ticket)) for ticket in tickets]

    async def _file(self, ticket: SubmittedTicket) -> int:
        try:
            result = await self._cases.intake.ingest(inbound(ticket))
        except Exception as exc:  # retried with back-off; the last error is kept
            await self._failed(ticket, exc)
            return 0
        return result.case.number

    async def _failed(self, ticket: SubmittedTicket, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
        final = ticket.attempts >= self._max_attempts
        log.warning(
            "ticket %s: attempt %s failed%s: %s",
            ticket.id,
            ticket.attempts,
            " (giving up)" if final else "",
            error,
        )
        try:
            async with self._sessions() as session, session.begin():
                await ticket_queries.settle(
                    session,
                    ticket.id,
                    self._holder,
                    status=TicketIntakeStatus.FAILED if final else TicketIntakeStatus.PENDING,
                    held_until=None if final else self._clock() + backoff(ticket.attempts),
                    last_error=error,
                )
        except Exception:  # the database itself is away: the lease expires and it is retried
            log.warning("ticket %s: could not record the failure", ticket.id, exc_info=True)


def customer_key(ticket: SubmittedTicket) -> str:
    """The customer a ticket files for. Without a customer id each ticket is its own customer
    (a storm of anonymous tickets must be many cases, not one long conversation)."""
    return str(ticket.payload.get("customer_id") or f"ticket-{ticket.id[:16]}")


def inbound(ticket: SubmittedTicket) -> InboundMessage:
    """The customer message a ticket files."""
    payload = ticket.payload
    customer_id = customer_key(ticket)
    return InboundMessage(
        source=Channel.API,
        external_id=f"ticket:{ticket.id}",
        body=payload["text"],
        customer=CustomerIdentity(
            name=payload.get("customer_name") or customer_id, phone=customer_id
        ),
        origin_channel=payload.get("channel") or CHANNEL,
        subject=payload.get("subject"),
    )

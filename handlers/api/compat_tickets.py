"""The ticket service's endpoints Casebot replaces: `POST /tickets` answers 202 at once and a
worker files the ticket (services.ticket_intake); its caller polls `status_url` from pending
to completed. `/queue` reads the same queue as `/api/v1`; `/tickets/next` pops its top, as
`POST /api/v1/queue/claim` does (tag `compat`)."""

from __future__ import annotations

import re

from handlers.api.app import Api, Call, Reply, not_found
from handlers.api.compat_ticket_models import (
    Queue,
    QueueItem,
    TicketAccepted,
    TicketCreate,
    TicketStatus,
)
from handlers.api.models import (
    MAX_CASE_NUMBER,
    TICKET_ID_CHARS,
    Error,
    Page,
)
from services.api_reads import ApiReads
from services.cases import CaseService
from services.errors import CaseNotFound
from services.ticket_intake import NewTicket, TicketIntake
from storage.models import LOCAL_TICKET_PREFIX, TicketIntakeStatus

TAG = "compat"
LOCAL_TICKET = re.compile(rf"{re.escape(LOCAL_TICKET_PREFIX)}([1-9][0-9]{{0,9}})")


class Tickets:
    """The handlers, holding the services they call."""

    def __init__(self, cases: CaseService, reads: ApiReads, tickets: TicketIntake) -> None:
        self._cases = cases
        self._reads = reads
        self._tickets = tickets

    async def create_ticket(self, call: Call) -> Reply:
        """Accept a ticket (202); it is filed a moment later: poll status_url."""
        body = await call.body(TicketCreate)
        ticket = await self._tickets.submit(
            NewTicket(
                text=body.text,
                subject=body.subject,
                customer_id=body.customer_id,
                customer_name=body.customer_name,
                channel=body.channel,
            )
        )
        return Reply(
            202,
            TicketAccepted(
                ticket_id=ticket.id, status="accepted", status_url=f"/tickets/{ticket.id}/status"
            ),
        )

    async def ticket_status(self, call: Call) -> Reply:
        """A ticket's progress: pending, processing, completed (with its triage), failed."""
        ticket_id = call.text("ticket_id", limit=TICKET_ID_CHARS)
        local = LOCAL_TICKET.fullmatch(ticket_id)
        if local and int(local.group(1)) <= MAX_CASE_NUMBER:
            # a case that did not come through POST /tickets, by its ticket id
            return await self._case_status(ticket_id, int(local.group(1)))
        state = await self._tickets.state(ticket_id)
        if state is None:
            raise not_found(f"There is no ticket {ticket_id!r}.")
        ticket = state.ticket
        failed = ticket.status == TicketIntakeStatus.FAILED
        return Reply(
            200,
            TicketStatus.of(
                ticket.id,
                ticket.status.value,
                state.case,
                state.master,
                created_at=ticket.created_at,
                completed_at=ticket.completed_at,
                error=ticket.last_error if failed else None,
            ),
        )

    async def _case_status(self, ticket_id: str, number: int) -> Reply:
        try:
            record = await self._reads.record(number)
        except CaseNotFound as exc:
            raise not_found(f"There is no ticket {ticket_id!r}.") from exc
        case = record.case
        if case.ticket_ref != ticket_id:  # synced since: known by the external id now
            raise not_found(f"There is no ticket {ticket_id!r}.")
        return Reply(
            200,
            TicketStatus.of(
                ticket_id,
                TicketIntakeStatus.COMPLETED.value,
                case,
                record.master,
                created_at=case.created_at,
                completed_at=case.created_at,
            ),
        )

    async def queue(self, call: Call) -> Reply:
        """Active incidents by priority."""
        limit, offset = call.page()
        cases = await self._reads.queue(limit=limit, offset=offset)
        ids = await self._reads.submitted_ids(cases)
        items = [QueueItem.of(c, ids.get(c.number)) for c in cases]
        return Reply(200, Queue(queue=items, next=call.next_link(offset, limit, len(items))))

    async def next_ticket(self, call: Call) -> Reply:
        """Pop the top unassigned ticket: it is claimed for the caller, as the documents' agent
        workflow expects, so two calls never get the same ticket (404: the queue is empty)."""
        case = await self._cases.agents.claim_next(actor=call.actor)
        if case is None:
            raise not_found("The queue is empty.")
        ids = await self._reads.submitted_ids([case])
        return Reply(200, QueueItem.of(case, ids.get(case.number)))


def declare(api: Api, cases: CaseService, reads: ApiReads, tickets: TicketIntake) -> None:
    """Declare the ticket routes on `api`."""
    c = Tickets(cases, reads, tickets)
    api.route(
        "POST",
        "/tickets",
        c.create_ticket,
        body=TicketCreate,
        responses={202: TicketAccepted},
        tag=TAG,
    )
    api.route(
        "GET",
        "/tickets/{ticket_id}/status",
        c.ticket_status,
        responses={200: TicketStatus},
        tag=TAG,
    )
    api.route("GET", "/queue", c.queue, query=Page, responses={200: Queue}, tag=TAG)
    api.route(
        "GET",
        "/tickets/next",
        c.next_ticket,
        summary="Take the highest-priority ticket nobody has taken (404 when there is none).",
        responses={200: QueueItem, 403: Error},
        scope="write",  # it claims the ticket, though a GET
        tag=TAG,
    )

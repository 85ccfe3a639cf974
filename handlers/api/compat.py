"""The compatibility endpoints: the request and response shapes of the incident and ticket
services Casebot replaces, over the same case service as `/api/v1` (tag `compat`).

- `/api/incidents…`, `/api/notifications/{id}`, `/api/stats`: incidents are cases.
- `/tickets…`, `/queue`: `POST /tickets` answers 202 at once and a worker files the ticket
  (services.ticket_intake); its caller polls `status_url` from pending to completed.
"""

from __future__ import annotations

import re
import uuid

from handlers.api.app import Api, Call, Reply, not_found
from handlers.api.compat_models import (
    CompatStats,
    Incident,
    IncidentCreate,
    IncidentCreated,
    IncidentDetail,
    IncidentPage,
    Notification,
    Notifications,
    Queue,
    QueueItem,
    TicketAccepted,
    TicketCreate,
    TicketStatus,
)
from handlers.api.models import (
    CUSTOMER_ID_CHARS,
    MAX_CASE_NUMBER,
    TICKET_ID_CHARS,
    Error,
    MessageOut,
    Page,
)
from services.api_reads import ApiReads
from services.cases import CaseService
from services.errors import CaseNotFound
from services.outbox import CUSTOMER_KINDS, OutboxKind
from services.ticket_intake import NewTicket, TicketIntake
from services.types import Channel, CustomerIdentity, InboundMessage, IngestResult
from storage.models import LOCAL_TICKET_PREFIX, OutboxItem, OutboxStatus, TicketIntakeStatus

TAG = "compat"
LOCAL_TICKET = re.compile(rf"{re.escape(LOCAL_TICKET_PREFIX)}([1-9][0-9]{{0,9}})")
SENT = {OutboxStatus.PENDING: "pending", OutboxStatus.DONE: "sent", OutboxStatus.DEAD: "failed"}


def opened_words(result: IngestResult) -> str:
    """The `message` of `POST /api/incidents`: what happened, in words."""
    case = result.case
    if result.duplicate:
        return f"This message was already received on incident #{case.number}."
    if not result.created:
        return f"Added to the customer's open incident #{case.number}."
    words = f"Incident #{case.number} opened"
    if case.request_type:
        words += f" as {case.request_type}"
        if case.triage_confidence is not None:
            words += f" (confidence {case.triage_confidence:.2f})"
    if case.master_id is not None:
        words += f", folded into master incident #{case.master_id}"
    return words + "."


def audience(item: OutboxItem) -> str:
    if item.kind in CUSTOMER_KINDS:
        return "customer"
    return "external" if item.kind == OutboxKind.TICKET_SYNC else "team"


class Compat:
    """The handlers, holding the services they call."""

    def __init__(self, cases: CaseService, reads: ApiReads, tickets: TicketIntake) -> None:
        self._cases = cases
        self._reads = reads
        self._tickets = tickets

    # --- incidents -------------------------------------------------------------------------

    async def create_incident(self, call: Call) -> Reply:
        body = await call.body(IncidentCreate)
        result = await self._cases.intake.ingest(
            InboundMessage(
                source=Channel.API,
                # No message id in this shape: every POST is a new message.
                external_id=f"incident:{uuid.uuid4().hex}",
                body=body.message,
                customer=CustomerIdentity(name=body.customer_id, phone=body.customer_id),
                origin_channel=body.channel,
            )
        )
        case = result.case
        return Reply(
            201 if result.created else 200,
            IncidentCreated(
                incident_id=case.number,
                ticket_id=case.ticket_ref,
                status=case.status.value,
                classification=case.request_type,
                confidence=case.triage_confidence,
                message=opened_words(result),
            ),
        )

    async def get_incident(self, call: Call) -> Reply:
        record = await self._reads.record(call.number("incident_id"))
        incident = Incident.of(record.case, record.customer.phone, record.master)
        messages = [MessageOut.of(m) for m in record.messages]
        return Reply(200, IncidentDetail(**incident.model_dump(), messages=messages))

    async def resolve_incident(self, call: Call) -> Reply:
        number = call.number("incident_id")
        await self._cases.agents.resolve(case_id=number, actor=call.actor)
        record = await self._reads.record(number)
        return Reply(200, Incident.of(record.case, record.customer.phone, record.master))

    async def customer_incidents(self, call: Call) -> Reply:
        limit, offset = call.page()
        customer_id = call.text("customer_id", limit=CUSTOMER_ID_CHARS)
        cases = await self._reads.customer_cases(customer_id, limit=limit, offset=offset)
        if cases is None:
            raise not_found(f"There is no customer {customer_id!r}.")
        masters = await self._reads.masters(cases)
        incidents = [
            Incident.of(c, customer_id, masters.get(c.master_id) if c.master_id else None)
            for c in cases
        ]
        return Reply(
            200,
            IncidentPage(
                customer_id=customer_id,
                incidents=incidents,
                next=call.next_link(offset, limit, len(incidents)),
            ),
        )

    async def notifications(self, call: Call) -> Reply:
        number = call.number("incident_id")
        items = await self._reads.deliveries(number)
        return Reply(
            200,
            Notifications(
                incident_id=number,
                notifications=[
                    Notification(
                        id=item.id or 0,
                        kind=item.kind,
                        audience=audience(item),
                        status=SENT[item.status],
                        attempts=item.attempts,
                        created_at=item.created_at,
                        sent_at=item.delivered_at,
                    )
                    for item in items
                ],
            ),
        )

    async def stats(self, _call: Call) -> Reply:
        stats = await self._reads.stats()
        first = stats.median_first_response
        by_status = stats.by_status
        return Reply(
            200,
            CompatStats(
                total_incidents=sum(by_status.values()),
                open=by_status.get("open", 0) + by_status.get("assigned", 0),
                resolved=by_status.get("resolved", 0),
                closed=by_status.get("closed", 0),
                escalated=stats.escalated,
                by_status=by_status,
                by_category=stats.by_category,
                median_first_response_seconds=first.total_seconds() if first else None,
            ),
        )

    # --- tickets ---------------------------------------------------------------------------

    async def create_ticket(self, call: Call) -> Reply:
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
        limit, offset = call.page()
        cases = await self._reads.queue(limit=limit, offset=offset)
        ids = await self._reads.submitted_ids(cases)
        items = [QueueItem.of(c, ids.get(c.number)) for c in cases]
        return Reply(200, Queue(queue=items, next=call.next_link(offset, limit, len(items))))

    async def next_ticket(self, _call: Call) -> Reply:
        """The top of the queue that nobody has taken; nothing is claimed (it is a GET)."""
        cases = await self._reads.queue(limit=1, offset=0, unassigned_only=True)
        if not cases:
            raise not_found("The queue is empty.")
        ids = await self._reads.submitted_ids(cases)
        return Reply(200, QueueItem.of(cases[0], ids.get(cases[0].number)))


def declare(api: Api, cases: CaseService, reads: ApiReads, tickets: TicketIntake) -> None:
    """Declare the compatibility routes on `api`."""
    c = Compat(cases, reads, tickets)
    incident = "/api/incidents/{incident_id}"
    api.route(
        "POST",
        "/api/incidents",
        c.create_incident,
        summary="A customer's message: a new incident (201) or added to their open one (200).",
        body=IncidentCreate,
        responses={201: IncidentCreated, 200: IncidentCreated},
        tag=TAG,
    )
    api.route(
        "GET",
        incident,
        c.get_incident,
        summary="An incident with its messages.",
        responses={200: IncidentDetail},
        tag=TAG,
    )
    api.route(
        "PUT",
        f"{incident}/resolve",
        c.resolve_incident,
        summary="Resolve the incident; the customer is told.",
        responses={200: Incident, 409: Error},
        tag=TAG,
    )
    api.route(
        "GET",
        "/api/incidents/customer/{customer_id}",
        c.customer_incidents,
        summary="A customer's incidents, newest first.",
        query=Page,
        responses={200: IncidentPage},
        tag=TAG,
    )
    api.route(
        "GET",
        "/api/notifications/{incident_id}",
        c.notifications,
        summary="What was sent, or waits to be sent, about an incident.",
        responses={200: Notifications},
        tag=TAG,
    )
    api.route(
        "GET",
        "/api/stats",
        c.stats,
        summary="The desk's numbers.",
        responses={200: CompatStats},
        tag=TAG,
    )
    api.route(
        "POST",
        "/tickets",
        c.create_ticket,
        summary="Accept a ticket (202); it is filed a moment later: poll status_url.",
        body=TicketCreate,
        responses={202: TicketAccepted},
        tag=TAG,
    )
    api.route(
        "GET",
        "/tickets/{ticket_id}/status",
        c.ticket_status,
        summary="A ticket's progress: pending, processing, completed (with its triage), failed.",
        responses={200: TicketStatus},
        tag=TAG,
    )
    api.route(
        "GET",
        "/queue",
        c.queue,
        summary="Active incidents by priority.",
        query=Page,
        responses={200: Queue},
        tag=TAG,
    )
    api.route(
        "GET",
        "/tickets/next",
        c.next_ticket,
        summary="The highest-priority ticket nobody has taken (404 when there is none).",
        responses={200: QueueItem},
        tag=TAG,
    )

"""The incident service's endpoints Casebot replaces: `/api/incidents…`,
`/api/notifications/{id}` and `/api/stats`; incidents are cases (tag `compat`)."""

from __future__ import annotations

import uuid

from handlers.api.app import Api, Call, Reply, not_found
from handlers.api.compat_incident_models import (
    CompatStats,
    Incident,
    IncidentCreate,
    IncidentCreated,
    IncidentDetail,
    IncidentPage,
    Notification,
    Notifications,
    incident_id,
)
from handlers.api.models import (
    CUSTOMER_ID_CHARS,
    Error,
    MessageOut,
    Page,
)
from services.api_reads import ApiReads
from services.cases import CaseService
from services.outbox import CUSTOMER_KINDS, OutboxKind
from services.types import Channel, CustomerIdentity, InboundMessage, IngestResult
from storage.models import Direction, OutboxItem, OutboxStatus

TAG = "compat"
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


class Incidents:
    """The handlers, holding the services they call."""

    def __init__(self, cases: CaseService, reads: ApiReads) -> None:
        self._cases = cases
        self._reads = reads

    async def create_incident(self, call: Call) -> Reply:
        """A customer's message: a new incident (201) or added to their open one (200)."""
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
                incident_id=incident_id(case),
                number=case.number,
                ticket_id=case.ticket_ref,
                status=case.status.value,
                classification=case.request_type,
                confidence=case.triage_confidence,
                message=opened_words(result),
            ),
        )

    async def _number(self, call: Call) -> int:
        """The case an `{incident_id}` path names: its UUID (the documents') or its number."""
        raw = call.request.match_info["incident_id"]
        try:
            public_id = str(uuid.UUID(raw))
        except ValueError:
            return call.number("incident_id")
        number = await self._reads.number_by_public_id(public_id)
        if number is None:
            raise not_found(f"There is no incident {raw!r}.")
        return number

    async def get_incident(self, call: Call) -> Reply:
        """An incident with its messages."""
        record = await self._reads.record(await self._number(call))
        incident = Incident.of(record.case, record.customer.phone, record.master)
        messages = [MessageOut.of(m) for m in call.visible(record.messages)]
        first = next((m.body for m in messages if m.direction == Direction.INBOUND), None)
        return Reply(200, IncidentDetail(**incident.model_dump(), message=first, messages=messages))

    async def resolve_incident(self, call: Call) -> Reply:
        """Resolve the incident; the customer is told."""
        number = await self._number(call)
        await self._cases.agents.resolve(case_id=number, actor=call.actor)
        record = await self._reads.record(number)
        return Reply(200, Incident.of(record.case, record.customer.phone, record.master))

    async def customer_incidents(self, call: Call) -> Reply:
        """A customer's incidents, newest first."""
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
        """What was sent, or waits to be sent, about an incident."""
        number = await self._number(call)
        record = await self._reads.record(number)
        items = await self._reads.deliveries(number)
        return Reply(
            200,
            Notifications(
                incident_id=incident_id(record.case),
                number=number,
                notifications=[
                    Notification(
                        id=item.id or 0,
                        channel=item.channel,
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
        """The desk's numbers."""
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


def declare(api: Api, cases: CaseService, reads: ApiReads) -> None:
    """Declare the incident routes on `api`."""
    c = Incidents(cases, reads)
    incident = "/api/incidents/{incident_id}"
    api.route(
        "POST",
        "/api/incidents",
        c.create_incident,
        body=IncidentCreate,
        responses={201: IncidentCreated, 200: IncidentCreated},
        tag=TAG,
    )
    api.route("GET", incident, c.get_incident, responses={200: IncidentDetail}, tag=TAG)
    api.route(
        "PUT",
        f"{incident}/resolve",
        c.resolve_incident,
        responses={200: Incident, 409: Error},
        tag=TAG,
    )
    api.route(
        "GET",
        "/api/incidents/customer/{customer_id}",
        c.customer_incidents,
        query=Page,
        responses={200: IncidentPage},
        tag=TAG,
    )
    api.route(
        "GET",
        "/api/notifications/{incident_id}",
        c.notifications,
        responses={200: Notifications},
        tag=TAG,
    )
    api.route("GET", "/api/stats", c.stats, responses={200: CompatStats}, tag=TAG)

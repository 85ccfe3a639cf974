"""Request and response bodies of the compatibility endpoints: the shapes of the incident and
ticket services Casebot replaces, so that their clients work unchanged.

Incidents are cases: `incident_id` is the case number. Tickets posted to `POST /tickets` get
an id of their own at once (they are filed a moment later); a case that did not come from
there is known by its case ticket id (`TKT-<n>`, or the external ticket system's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from handlers.api.models import (
    CUSTOMER_ID_CHARS,
    FILLED_PATTERN,
    MESSAGE_CHARS,
    NO_NUL_PATTERN,
    SUBJECT_CHARS,
    Body,
    MessageOut,
    Out,
    filled,
    storable,
)
from services.rules import urgency_label
from storage.models import Case

CHANNEL_CHARS = 32  # cases.origin_channel
NAME_CHARS = 100


def _channel(value: str) -> str:
    """Channel names as the old services sent them (`SMS`, `WhatsApp`, `web chat`), stored in
    one spelling."""
    value = storable(value).strip().lower()
    if not value:
        raise ValueError("must not be blank")
    return value


class IncidentCreate(Body):
    """`POST /api/incidents`: a customer's message on a channel."""

    customer_id: str = Field(
        min_length=1, max_length=CUSTOMER_ID_CHARS, json_schema_extra={"pattern": FILLED_PATTERN}
    )
    channel: str = Field(
        min_length=1, max_length=CHANNEL_CHARS, json_schema_extra={"pattern": FILLED_PATTERN}
    )
    message: str = Field(
        min_length=1, max_length=MESSAGE_CHARS, json_schema_extra={"pattern": FILLED_PATTERN}
    )

    @field_validator("customer_id", "message")
    @classmethod
    def _text(cls, value: str) -> str:
        return filled(storable(value))

    @field_validator("customer_id")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        return value.strip()

    @field_validator("channel")
    @classmethod
    def _one_spelling(cls, value: str) -> str:
        return _channel(value)


class MasterIncident(Out):
    """The master incident a storm of similar reports was folded into."""

    incident_id: int
    ticket_id: str
    status: str

    @classmethod
    def of(cls, master: Case) -> Self:
        return cls(
            incident_id=master.number, ticket_id=master.ticket_ref, status=master.status.value
        )


class IncidentCreated(Out):
    incident_id: int = Field(description="The case number.")
    ticket_id: str
    status: str
    classification: str | None = Field(description="The request type, e.g. duplicate_payment.")
    confidence: float | None
    message: str = Field(description="What happened, in words.")


class Incident(Out):
    incident_id: int
    ticket_id: str
    customer_id: str | None
    channel: str | None
    status: str
    classification: str | None
    category: str | None
    confidence: float | None
    urgency_score: float
    urgency_label: str = Field(description="low, medium, high or critical.")
    assigned_agent: str | None = Field(description="The agent's Slack user id.")
    escalated: bool
    escalation_reasons: list[str]
    master_incident: MasterIncident | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None

    @classmethod
    def of(cls, case: Case, customer_id: str | None, master: Case | None = None) -> Self:
        return cls(
            incident_id=case.number,
            ticket_id=case.ticket_ref,
            customer_id=customer_id,
            channel=case.origin_channel,
            status=case.status.value,
            classification=case.request_type,
            category=case.category,
            confidence=case.triage_confidence,
            urgency_score=case.urgency,
            urgency_label=urgency_label(case.urgency),
            assigned_agent=case.assignee,
            escalated=case.escalation_level > 0,
            escalation_reasons=list(case.escalation_reasons),
            master_incident=MasterIncident.of(master) if master is not None else None,
            created_at=case.created_at,
            updated_at=case.updated_at,
            resolved_at=case.resolved_at,
        )


class IncidentDetail(Incident):
    messages: list[MessageOut]


class IncidentPage(Out):
    customer_id: str
    incidents: list[Incident]
    next: str | None = Field(description="The next page's path, or null on the last page.")


class Notification(Out):
    """One message Casebot sent, or will send, about an incident."""

    id: int
    kind: str = Field(description="e.g. customer.ack, customer.reply, alert.escalation.")
    audience: str = Field(description="customer, team or external.")
    status: str = Field(description="pending, sent or failed.")
    attempts: int
    created_at: datetime
    sent_at: datetime | None


class Notifications(Out):
    incident_id: int
    notifications: list[Notification]


class CompatStats(Out):
    total_incidents: int
    open: int = Field(description="Open or assigned.")
    resolved: int
    closed: int
    escalated: int = Field(description="Active incidents escalated at least once.")
    by_status: dict[str, int]
    by_category: dict[str, int]
    median_first_response_seconds: float | None = Field(
        description="Over cases first answered in the last 30 days (null: none were)."
    )


def _text(limit: int, **extra: Any) -> Any:
    """An optional text field without NUL (what PostgreSQL cannot store)."""
    return Field(
        default=None, max_length=limit, json_schema_extra={"pattern": NO_NUL_PATTERN}, **extra
    )


class TicketCreate(Body):
    """`POST /tickets`: any of subject, body and description; who wrote, optionally."""

    # The document says what the validator checks: one of the three holds more than space.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "required": [name],
                    "properties": {name: {"type": "string", "pattern": FILLED_PATTERN}},
                }
                for name in ("subject", "body", "description")
            ]
        }
    )

    subject: str | None = _text(SUBJECT_CHARS)
    body: str | None = _text(MESSAGE_CHARS)
    description: str | None = _text(MESSAGE_CHARS)
    customer_id: str | None = _text(
        CUSTOMER_ID_CHARS, description="Without one, each ticket is a customer of its own."
    )
    customer_name: str | None = _text(NAME_CHARS)
    channel: str | None = Field(
        default=None,
        min_length=1,
        max_length=CHANNEL_CHARS,
        json_schema_extra={"pattern": FILLED_PATTERN},
    )

    @field_validator("subject", "body", "description", "customer_id", "customer_name")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else storable(value).strip() or None

    @field_validator("channel")
    @classmethod
    def _one_spelling(cls, value: str | None) -> str | None:
        return None if value is None else _channel(value)

    @model_validator(mode="after")
    def _something_to_file(self) -> Self:
        if not (self.subject or self.body or self.description):
            raise ValueError("give at least one of subject, body and description")
        return self

    @property
    def text(self) -> str:
        """The message filed: body and description (both, when they differ), else the
        subject."""
        parts = [p for p in (self.body, self.description) if p]
        if len(parts) == 2 and parts[0] == parts[1]:
            parts = parts[:1]
        return "\n\n".join(parts) or self.subject or ""


class TicketAccepted(Out):
    ticket_id: str
    status: str = Field(description="Always accepted: it is filed a moment later.")
    status_url: str


class TicketStatus(Out):
    ticket_id: str
    status: str = Field(description="pending, processing, completed or failed.")
    incident_id: int | None = Field(description="Its case, once filed.")
    category: str | None
    classification: str | None
    urgency_score: float | None
    urgency_label: str | None
    assigned_agent: str | None
    master_incident: MasterIncident | None
    error: str | None = Field(description="Why filing failed, when it did.")
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(
        cls,
        ticket_id: str,
        status: str,
        case: Case | None,
        master: Case | None,
        *,
        created_at: datetime,
        completed_at: datetime | None,
        error: str | None = None,
    ) -> Self:
        """A ticket's progress; the triage fields are its case's, once it has one."""
        return cls(
            ticket_id=ticket_id,
            status=status,
            incident_id=case.number if case else None,
            category=case.category if case else None,
            classification=case.request_type if case else None,
            urgency_score=case.urgency if case else None,
            urgency_label=urgency_label(case.urgency) if case else None,
            assigned_agent=case.assignee if case else None,
            master_incident=MasterIncident.of(master) if master else None,
            error=error,
            created_at=created_at,
            completed_at=completed_at,
        )


class QueueItem(Out):
    ticket_id: str
    incident_id: int
    subject: str
    status: str
    category: str | None
    classification: str | None
    urgency_score: float
    urgency_label: str
    assigned_agent: str | None
    escalated: bool
    created_at: datetime

    @classmethod
    def of(cls, case: Case, ticket_id: str | None) -> Self:
        return cls(
            ticket_id=ticket_id or case.ticket_ref,
            incident_id=case.number,
            subject=case.subject,
            status=case.status.value,
            category=case.category,
            classification=case.request_type,
            urgency_score=case.urgency,
            urgency_label=urgency_label(case.urgency),
            assigned_agent=case.assignee,
            escalated=case.escalation_level > 0,
            created_at=case.created_at,
        )


class Queue(Out):
    queue: list[QueueItem]
    next: str | None = Field(description="The next page's path, or null on the last page.")

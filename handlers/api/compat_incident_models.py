"""Request and response bodies of the incident service's endpoints Casebot replaces, so that
their clients work unchanged (handlers/api/compat_ticket_models.py has the ticket service's).

Incidents are cases: `incident_id` is the case's UUID (as the documents show it), `number`
the case number Slack and /api/v1 use; either names the incident in a path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import Field, field_validator

from handlers.api.models import (
    CUSTOMER_ID_CHARS,
    FILLED_PATTERN,
    MESSAGE_CHARS,
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


def channel_name(value: str) -> str:
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
        return channel_name(value)


def document_urgency_label(score: float) -> str:
    """The documents' words: `high` is the top (our `critical`, above 0.8, is `high` here)."""
    label = urgency_label(score)
    return "high" if label == "critical" else label


def incident_id(case: Case) -> str:
    assert case.public_id is not None, "every case has one (migration 0015)"
    return case.public_id


class MasterIncident(Out):
    """The master incident a storm of similar reports was folded into."""

    incident_id: str
    number: int
    ticket_id: str
    status: str

    @classmethod
    def of(cls, master: Case) -> Self:
        return cls(
            incident_id=incident_id(master),
            number=master.number,
            ticket_id=master.ticket_ref,
            status=master.status.value,
        )


class IncidentCreated(Out):
    incident_id: str = Field(description="The incident's UUID.")
    number: int = Field(description="The case number (#N in Slack).")
    ticket_id: str
    status: str
    classification: str | None = Field(description="The request type, e.g. duplicate_payment.")
    confidence: float | None
    message: str = Field(description="What happened, in words.")


class Incident(Out):
    incident_id: str = Field(description="The incident's UUID.")
    number: int = Field(description="The case number (#N in Slack).")
    ticket_id: str
    customer_id: str | None
    channel: str | None
    status: str
    classification: str | None
    category: str | None
    confidence: float | None
    urgency_score: float
    urgency_label: str = Field(description="low, medium or high (high: above 0.6).")
    assigned_agent: str | None = Field(description="The agent's Slack user id.")
    escalated: bool
    escalation_reasons: list[str]
    reminder_sent: bool = Field(description="Whether the team was reminded of it.")
    master_incident: MasterIncident | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None

    @classmethod
    def of(cls, case: Case, customer_id: str | None, master: Case | None = None) -> Self:
        return cls(
            incident_id=incident_id(case),
            number=case.number,
            ticket_id=case.ticket_ref,
            customer_id=customer_id,
            channel=case.origin_channel,
            status=case.status.value,
            classification=case.request_type,
            category=case.category,
            confidence=case.triage_confidence,
            urgency_score=case.urgency,
            urgency_label=document_urgency_label(case.urgency),
            assigned_agent=case.assignee,
            escalated=case.escalation_level > 0,
            escalation_reasons=list(case.escalation_reasons),
            reminder_sent=case.reminder_sent_at is not None,
            master_incident=MasterIncident.of(master) if master is not None else None,
            created_at=case.created_at,
            updated_at=case.updated_at,
            resolved_at=case.resolved_at,
        )


class IncidentDetail(Incident):
    message: str | None = Field(description="The customer's first message.")
    messages: list[MessageOut]


class IncidentPage(Out):
    customer_id: str
    incidents: list[Incident]
    next: str | None = Field(description="The next page's path, or null on the last page.")


class Notification(Out):
    """One message Casebot sent, or will send, about an incident."""

    id: int
    channel: str = Field(description="slack, email, webhook or tickets: where it goes out.")
    kind: str = Field(description="e.g. customer.ack, customer.reply, alert.escalation.")
    audience: str = Field(description="customer, team or external.")
    status: str = Field(description="pending, sent or failed.")
    attempts: int
    created_at: datetime
    sent_at: datetime | None


class Notifications(Out):
    incident_id: str
    number: int
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

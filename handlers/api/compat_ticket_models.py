"""Request and response bodies of the ticket service's endpoints Casebot replaces.

Tickets posted to `POST /tickets` get an id of their own at once (they are filed a moment
later); a case that did not come from there is known by its case ticket id (`TKT-<n>`, or
the external ticket system's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from handlers.api.compat_incident_models import (
    CHANNEL_CHARS,
    NAME_CHARS,
    MasterIncident,
    channel_name,
    document_urgency_label,
    incident_id,
)
from handlers.api.models import (
    CUSTOMER_ID_CHARS,
    FILLED_PATTERN,
    MESSAGE_CHARS,
    NO_NUL_PATTERN,
    SUBJECT_CHARS,
    Body,
    Out,
    storable,
)
from storage.models import Case


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
        return None if value is None else channel_name(value)

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


# A filed ticket folded into a storm's master incident reads this status, as the documents
# show (the master itself is in `master_incident`).
FOLDED = "master_incident"


class TicketStatus(Out):
    ticket_id: str
    status: str = Field(
        description="pending, processing, completed, master_incident (filed and folded into "
        "a storm's master incident) or failed."
    )
    incident_id: str | None = Field(description="Its incident's UUID, once filed.")
    number: int | None = Field(description="Its case number, once filed.")
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
            status=FOLDED if status == "completed" and master is not None else status,
            incident_id=incident_id(case) if case else None,
            number=case.number if case else None,
            category=case.category if case else None,
            classification=case.request_type if case else None,
            urgency_score=case.urgency if case else None,
            urgency_label=document_urgency_label(case.urgency) if case else None,
            assigned_agent=case.assignee if case else None,
            master_incident=MasterIncident.of(master) if master else None,
            error=error,
            created_at=created_at,
            completed_at=completed_at,
        )


class QueueItem(Out):
    ticket_id: str
    incident_id: str
    number: int
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
            incident_id=incident_id(case),
            number=case.number,
            subject=case.subject,
            status=case.status.value,
            category=case.category,
            classification=case.request_type,
            urgency_score=case.urgency,
            urgency_label=document_urgency_label(case.urgency),
            assigned_agent=case.assignee,
            escalated=case.escalation_level > 0,
            created_at=case.created_at,
        )


class Queue(Out):
    queue: list[QueueItem]
    next: str | None = Field(description="The next page's path, or null on the last page.")

"""The API's request and response bodies: validated on the way in, the OpenAPI schemas out.

Times are UTC and serialise as ISO-8601 with `Z`.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storage.models import AuditEvent, Case, Message

CUSTOMER_ID_CHARS = 32  # the customer's webhook identity (customers.phone), as the webhook
MESSAGE_CHARS = 20_000
SUBJECT_CHARS = 200
MESSAGE_ID_CHARS = 200
TICKET_ID_CHARS = 100  # a submitted ticket's id (32 hex) or a case's ticket id
MAX_LIMIT = 200
MAX_CASE_NUMBER = 2**31 - 1  # case numbers are 32-bit integers in the database
DEFAULT_LIMIT = 50
CURSOR_PATTERN = "^[A-Za-z0-9_-]{8}$"  # base64url of a 48-bit offset: every match is a cursor


def _class(chars: str) -> str:
    """Characters as `\\uXXXX` escapes, which Python, ECMA-262 and Rust regexes all read alike."""
    return "".join(f"\\u{ord(char):04x}" for char in chars)


# What `str.strip()` strips, spelled out: `\s` differs between regex engines.
_SPACE = _class("".join(filter(str.isspace, map(chr, range(sys.maxunicode + 1)))))
# The text rules as patterns, published in the OpenAPI schemas and used by the validators
# below, so that what the document allows and what the API accepts cannot drift apart.
NO_NUL_PATTERN = "^[^\\u0000]*$"
FILLED_PATTERN = f"^[^\\u0000]*[^\\u0000{_SPACE}][^\\u0000]*$"  # no NUL, not only space
_NO_NUL = re.compile(NO_NUL_PATTERN)
_FILLED = re.compile(FILLED_PATTERN)


def storable(value: str) -> str:
    """Text PostgreSQL and SQLite both store as given: no NUL, no unpaired surrogate."""
    if not _NO_NUL.fullmatch(value):
        raise ValueError("contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains an unpaired surrogate") from None
    return value


def filled(value: str) -> str:
    """Text with more than space in it (FILLED_PATTERN, as the document says)."""
    if not _FILLED.fullmatch(value):
        raise ValueError("must not be blank")
    return value


class Body(BaseModel):
    """Request bodies: strict types (a number is not a string), unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


class CaseCreate(Body):
    """A customer's message: opens a case, or continues the customer's live one."""

    customer_id: str = Field(
        min_length=1,
        max_length=CUSTOMER_ID_CHARS,
        description="The customer's id in your system (shared with the webhook channel).",
        json_schema_extra={"pattern": FILLED_PATTERN},
    )
    channel: str = Field(
        pattern=r"^[a-z0-9_-]{1,16}$", description="Where the customer wrote: sms, web, chat…"
    )
    message: str = Field(
        min_length=1, max_length=MESSAGE_CHARS, json_schema_extra={"pattern": FILLED_PATTERN}
    )
    subject: str | None = Field(
        default=None, max_length=SUBJECT_CHARS, json_schema_extra={"pattern": NO_NUL_PATTERN}
    )
    message_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MESSAGE_ID_CHARS,
        description="Your id for this message: sending it again does not add it twice.",
        json_schema_extra={"pattern": NO_NUL_PATTERN},
    )

    @field_validator("customer_id", "message", "subject", "message_id")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else storable(value)

    @field_validator("customer_id", "message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return filled(value)

    @field_validator("customer_id")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        return value.strip()


class Page(BaseModel):
    """`limit` and `cursor` query parameters of a list."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(
        default=None,
        pattern=CURSOR_PATTERN,
        description="Opaque: the `next` link of the previous page carries it.",
    )


class Out(BaseModel):
    """Response bodies."""

    model_config = ConfigDict(from_attributes=True)


class Error(Out):
    error: str


class InternalError(Error):
    error: str = "internal error"
    id: str = Field(description="Quote it to the operator: the log line carries it.")


class FieldError(Out):
    field: str
    reason: str


class ValidationFailed(Out):
    error: str = "invalid request"
    fields: list[FieldError]


class CaseOut(Out):
    number: int
    ticket_id: str = Field(
        description="The external ticket system's id once synced, else TKT-<number>."
    )
    status: str
    subject: str
    source: str
    channel: str | None
    category: str | None
    request_type: str | None
    confidence: float | None
    urgency: float
    assignee: str | None
    escalation_level: int
    escalation_reasons: list[str]
    master: int | None = Field(description="The master incident a storm folded this case into.")
    is_master: bool
    sla_due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, case: Case) -> Self:
        return cls(
            number=case.number,
            ticket_id=case.ticket_ref,
            status=case.status.value,
            subject=case.subject,
            source=case.source,
            channel=case.origin_channel,
            category=case.category,
            request_type=case.request_type,
            confidence=case.triage_confidence,
            urgency=case.urgency,
            assignee=case.assignee,
            escalation_level=case.escalation_level,
            escalation_reasons=list(case.escalation_reasons),
            master=case.master_id,
            is_master=case.is_master,
            sla_due_at=case.sla_due_at,
            created_at=case.created_at,
            updated_at=case.updated_at,
            resolved_at=case.resolved_at,
            closed_at=case.closed_at,
        )


class CaseCreated(CaseOut):
    created: bool = Field(description="False when the message continued the customer's case.")
    duplicate: bool = Field(description="True when this message_id was already stored.")


class MessageOut(Out):
    direction: str
    author: str
    is_agent: bool
    body: str
    source: str
    created_at: datetime

    @classmethod
    def of(cls, message: Message) -> Self:
        return cls(
            direction=message.direction.value,
            author=message.author,
            is_agent=message.is_agent,
            body=message.body,
            source=message.source,
            created_at=message.created_at,
        )


class AuditOut(Out):
    action: str
    actor: str
    data: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, event: AuditEvent) -> Self:
        return cls(
            action=event.action, actor=event.actor, data=event.data, created_at=event.created_at
        )


class CaseDetail(CaseOut):
    customer_id: str | None = Field(
        description="The customer's webhook/API id, when they have one."
    )
    messages: list[MessageOut] = Field(
        description="Every message, internal notes too (the token acts as an agent)."
    )
    audit: list[AuditOut]


class CasePage(Out):
    items: list[CaseOut]
    next: str | None = Field(description="The next page's path, or null on the last page.")


class Stats(Out):
    total: int
    by_status: dict[str, int]
    by_category: dict[str, int] = Field(description="Untriaged cases count as `uncategorised`.")
    escalated: int = Field(description="Active cases escalated at least once.")
    median_first_response_seconds: float | None = Field(
        description="Over cases first answered in the last 30 days (null: none were)."
    )

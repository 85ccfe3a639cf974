"""Cases, their customers, messages and files: what a support team works on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.common import (
    LOCAL_TICKET_PREFIX,
    CaseStatus,
    Direction,
    empty_list,
    new_public_id,
    utcnow,
)
from storage.types import UTCDateTime, str_enum


class Customer(SQLModel, table=True):
    """A person who asks for help; one identity per channel, each unique."""

    __tablename__ = "customers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=200)
    slack_user_id: str | None = Field(default=None, max_length=32, unique=True)
    email: str | None = Field(default=None, max_length=320, unique=True)
    phone: str | None = Field(default=None, max_length=32, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Case(SQLModel, table=True):
    """A customer's request; `id` is the human case number shown as `#N`."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_customer_status", "customer_id", "status"),
        Index("ix_cases_status_last_customer", "status", "last_customer_message_at"),
        Index("ix_cases_card", "card_channel", "card_ts"),
        Index("ix_cases_origin", "origin_channel", "origin_thread_ts"),
        Index("ix_cases_reminder_due", "status", "reminder_sent_at", "created_at"),
        Index("ix_cases_auto_close", "status", "resolved_at"),
        Index("ix_cases_nudge_due", "status", "last_agent_message_at"),
        Index("ix_cases_sla_due", "status", "sla_alerted_at", "sla_due_at"),
        # The inactivity sweep: active, not alerted yet, waiting since before the cutoff.
        Index(
            "ix_cases_inactivity_due", "status", "inactivity_alerted_at", "last_customer_message_at"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id")
    status: CaseStatus = Field(default=CaseStatus.OPEN, sa_type=str_enum(CaseStatus))
    subject: str = Field(default="", max_length=200)
    source: str = Field(max_length=16)  # services.types.Channel
    category: str | None = Field(default=None, max_length=100)
    urgency: float = 0.0
    # Triage: the catalog's request type, how sure, who decided (claude, local, keywords,
    # agent) and why; the SLA due time comes from the catalog.
    request_type: str | None = Field(default=None, max_length=64)
    triage_confidence: float | None = None
    triage_source: str | None = Field(default=None, max_length=16)
    triage_reason: str | None = Field(default=None, max_length=300)
    sla_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sla_alerted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Storm folding: a master incident stands for many similar cases (its children);
    # `duplicate_of` links a near-duplicate to the most similar earlier case.
    is_master: bool = False
    master_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    duplicate_of: int | None = Field(default=None, foreign_key="cases.id")
    assignee: str | None = Field(default=None, max_length=32)
    # Where the customer wrote, so that agent replies go back there.
    origin_channel: str | None = Field(default=None, max_length=32)
    origin_thread_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_customer_message_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_agent_message_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consecutive_customer_messages: int = 0
    escalation_level: int = 0
    escalation_reasons: list[str] = Field(
        default_factory=empty_list, sa_column=Column(JSON, nullable=False)
    )
    # Set with the inactivity alert so the sweep's indexed query skips the case from then on.
    inactivity_alerted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminder_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The agent message (by its time) the nudge rule last looked at: one nudge per question.
    nudge_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=64)
    card_channel: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)
    # Set before the card is first posted: a retry after a crash looks for that card first.
    card_attempted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The external ticket system's id (TICKET_API_URL), once the case was synced there.
    ticket_id: str | None = Field(default=None, max_length=100)
    # The incident service's clients name an incident by a UUID; ours by number. Nullable in
    # the schema only (see migration 0015): every row has one.
    public_id: str | None = Field(
        default_factory=new_public_id,
        max_length=36,
        unique=True,
        index=True,
        sa_column_kwargs={"default": new_public_id},
    )
    ticket_synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def number(self) -> int:
        """The case number humans see (`#N`)."""
        assert self.id is not None, "case not flushed yet"
        return self.id

    @property
    def ticket_ref(self) -> str:
        """The ticket id shown and served: the external system's once synced, else the local
        `TKT-<number>` (computed, never stored)."""
        return self.ticket_id or f"{LOCAL_TICKET_PREFIX}{self.number}"

    @property
    def is_active(self) -> bool:
        """Open or assigned: the customer is still being helped."""
        return self.status in (CaseStatus.OPEN, CaseStatus.ASSIGNED)


class Message(SQLModel, table=True):
    """One message of a case; `(source, external_id)` makes a redelivered message a no-op."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_messages_source_external"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    direction: Direction = Field(sa_type=str_enum(Direction))
    author: str = Field(max_length=200)
    is_agent: bool = False
    body: str
    source: str = Field(max_length=16)
    external_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # its author changed it
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # deleted or withdrawn


class Attachment(SQLModel, table=True):
    """A file that came with a customer's message: always listed, small ones kept to upload."""

    __tablename__ = "attachments"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    message_external_id: str = Field(max_length=255)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    size: int
    content: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

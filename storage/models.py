"""The tables. Times are timezone-aware UTC; enums are stored as their string values."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, str_enum


def utcnow() -> datetime:
    """Now, timezone-aware, for column defaults."""
    return datetime.now(UTC)


def empty_list() -> list[Any]:
    """A new list, for column defaults: pydantic inspects a default factory's signature on
    every construction, and `list`'s costs 67 µs against 5 µs for a plain function."""
    return []


# A case's ticket id until the external ticket system gave it one (or when there is none).
LOCAL_TICKET_PREFIX = "TKT-"


class CaseStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Direction(StrEnum):
    INBOUND = "inbound"  # from the customer
    OUTBOUND = "outbound"  # from an agent, relayed to the customer
    INTERNAL = "internal"  # an agent's note, never relayed


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"  # gave up after the maximum attempts; kept for an operator to see


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
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=64)
    card_channel: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)
    # Set before the card is first posted: a retry after a crash looks for that card first.
    card_attempted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The external ticket system's id (TICKET_API_URL), once the case was synced there.
    ticket_id: str | None = Field(default=None, max_length=100)
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


class AuditEvent(SQLModel, table=True):
    """Every state change, refusal and notification, with who did it."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    action: str = Field(max_length=64)
    actor: str = Field(max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxItem(SQLModel, table=True):
    """A pending delivery to the outside world, written in the same transaction as its cause.

    Items with the same `ordering_key` (per case: the team's stream and the customer's) are
    delivered strictly in id order.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "next_attempt_at"),
        # The claim's "is an earlier row of this key still pending?" check.
        Index(
            "ix_outbox_pending_key",
            "ordering_key",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64)
    channel: str = Field(max_length=16)  # services.types.Channel: which sender delivers it
    ordering_key: str = Field(max_length=64, index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=str_enum(OutboxStatus))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: due now
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=100)  # the process holding it
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProcessedEvent(SQLModel, table=True):
    """Slack event ids taken by some process, so that a redelivery (to any process) has one
    effect; `holder` lets another process take over the event of a process that died."""

    __tablename__ = "processed_events"

    event_id: str = Field(primary_key=True, max_length=64)
    holder: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Lease(SQLModel, table=True):
    """A time-limited claim by one process: `instance:<id>` says the process is alive (its
    heartbeat), other names are singletons such as one IMAP poller per mailbox."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=400)
    holder: str = Field(max_length=100)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    acquired_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MailCursor(SQLModel, table=True):
    """How far a mailbox has been read: UIDs are only meaningful within one UIDVALIDITY."""

    __tablename__ = "mail_cursors"

    mailbox: str = Field(primary_key=True, max_length=320)
    uidvalidity: int = Field(sa_type=BigInteger)
    last_uid: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QuarantinedMessage(SQLModel, table=True):
    """Input that could not become a case message, kept raw with the reason; never dropped."""

    __tablename__ = "quarantine"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)
    reason: str = Field(max_length=500)
    raw: bytes = Field(sa_type=LargeBinary)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SentEmail(SQLModel, table=True):
    """Mail we sent: customer replies and bounces find their case by its Message-ID, and the
    hourly cap on automatic mail counts these rows."""

    __tablename__ = "sent_emails"
    __table_args__ = (Index("ix_sent_emails_recipient_sent", "recipient", "sent_at"),)

    message_id: str = Field(primary_key=True, max_length=255)
    case_id: int = Field(foreign_key="cases.id", index=True)
    recipient: str = Field(max_length=320)
    kind: str = Field(max_length=64)
    automatic: bool = False
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


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


class LabelledExample(SQLModel, table=True):
    """A text with its request type: an agent's correction or imported help-desk history.

    The local classifier learns from these; `vector` is the text's embedding, kept so that a
    restart does not re-encode thousands of texts.
    """

    __tablename__ = "labelled_examples"

    id: int | None = Field(default=None, primary_key=True)
    text: str
    request_type: str = Field(max_length=64)
    sublabel: str | None = Field(default=None, max_length=200)
    source: str = Field(max_length=16)  # correction | import
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    actor: str = Field(default="", max_length=200)
    vector: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CaseEmbedding(SQLModel, table=True):
    """A case's embedding (of its first message), compared with new cases to fold storms."""

    __tablename__ = "case_embeddings"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    vector: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Agent(SQLModel, table=True):
    """A support agent's routing profile: skills (from the catalog) and how many cases at once.

    Who may act as an agent is still AGENT_USER_IDS / AGENT_USERGROUP; this only says who gets
    new cases routed to them.
    """

    __tablename__ = "agents"

    user_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=200)
    skills: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    capacity: int = 10
    active: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Report(SQLModel, table=True):
    """An XLSX report, recorded once per `key` (a schedule's slot such as
    `cron:2026-11-24T08:00Z`, or one on-demand request): the unique key is what keeps a slot
    from being sent twice, whichever process gets there first. The file is kept as built, so
    that every recipient and every retry gets the same bytes."""

    __tablename__ = "reports"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    trigger: str = Field(max_length=16)  # schedule | request
    requested_by: str | None = Field(default=None, max_length=32)  # the agent, on request
    recipients: list[str] = Field(
        default_factory=empty_list, sa_column=Column(JSON, nullable=False)
    )
    filename: str = Field(max_length=255)
    content: bytes = Field(sa_type=LargeBinary)
    case_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # first mail accepted
    uploaded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # into the DM


class TicketIntakeStatus(StrEnum):
    PENDING = "pending"  # accepted, waiting for a worker
    PROCESSING = "processing"  # a worker is classifying and filing it
    COMPLETED = "completed"  # filed: `case_id` is its case
    FAILED = "failed"  # gave up after the maximum attempts; `last_error` says why


class SubmittedTicket(SQLModel, table=True):
    """A ticket posted to `POST /tickets`, answered 202 at once and filed by a worker.

    Stored before the answer, so an accepted ticket survives a crash; `held_until` is both a
    worker's lease and the back-off after a failure (nobody takes the row before then).
    """

    __tablename__ = "submitted_tickets"
    __table_args__ = (Index("ix_submitted_tickets_due", "status", "held_until"),)

    id: str = Field(primary_key=True, max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: TicketIntakeStatus = Field(
        default=TicketIntakeStatus.PENDING, sa_type=str_enum(TicketIntakeStatus)
    )
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    attempts: int = 0
    held_until: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: due now
    held_by: str | None = Field(default=None, max_length=100)
    last_error: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

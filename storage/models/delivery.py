"""What leaves the process and what is recorded about it: the outbox, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, text
from sqlmodel import Field, SQLModel

from storage.models.common import (
    OutboxStatus,
    utcnow,
)
from storage.types import UTCDateTime, str_enum


class AuditEvent(SQLModel, table=True):
    """Every state change, refusal and notification, with who did it."""

    __tablename__ = "audit_events"
    # App Home counts this week's suggestion outcomes by action and time.
    __table_args__ = (Index("ix_audit_events_action_created", "action", "created_at"),)

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
    # The message a customer reply delivers (messages.id): withdrawn or edited by it in the
    # undo window. No foreign key: SQLite cannot add one without rebuilding the table.
    message_id: int | None = Field(default=None, index=True)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=str_enum(OutboxStatus))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: due now
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=100)  # the process holding it
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EventCounter(SQLModel, table=True):
    """Running totals of audited events (cases closed, escalations by reason), kept in the
    transaction that audits them (storage/counters.py), so `/metrics` reads a few rows instead
    of scanning the audit log. Each total is spread over a few shards, so that concurrent
    transactions rarely wait on one row."""

    __tablename__ = "event_counters"

    name: str = Field(max_length=100, primary_key=True)
    shard: int = Field(primary_key=True)
    value: int = Field(default=0, sa_type=BigInteger)

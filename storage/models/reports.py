"""Reports and tickets submitted through the API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

from storage.models.common import (
    empty_list,
    utcnow,
)
from storage.types import UTCDateTime, str_enum


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

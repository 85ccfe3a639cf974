"""What several processes on one database share: processed Slack events and leases."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.common import (
    utcnow,
)
from storage.types import UTCDateTime


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

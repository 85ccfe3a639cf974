"""Shared by every table: the clock, the status enums, small defaults."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def new_public_id() -> str:
    """A case's opaque id for clients that expect a UUID (the incident service's)."""
    return str(uuid.uuid4())


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
    CANCELLED = "cancelled"  # withdrawn before it went (an agent's reply, undone in time)

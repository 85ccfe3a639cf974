"""Storm folding: many customers reporting the same thing become one master incident.

Every new case with an embedding is compared (cosine) with the open cases of the last
`window_minutes`. The most similar one above `similarity` is its near-duplicate. When more
than `threshold` similar cases are open in the window, a master incident is created: one
alert, one card listing the affected customers, and the similar cases become its children
(their cards collapse; new children get no card). A new case similar to an open master
joins it. The decision runs inside the ingest transaction, serialised (SQLite's write lock,
a PostgreSQL advisory lock), so two processes never raise two masters for one storm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from services.audit import audit
from services.outbox import OutboxKind, enqueue
from services.rules import EscalationReason
from services.triage.embeddings import Vectors
from services.triage.learning import from_bytes, rows_from_bytes, to_bytes
from services.types import Channel
from storage import storm_queries
from storage.models import Case, CaseEmbedding, Customer
from storage.queries import is_postgres

STORM_LOCK = 7_420_001  # pg_advisory_xact_lock key: one storm decision at a time
INCIDENT_CUSTOMER = storm_queries.INCIDENT_CUSTOMER
STORM_NEIGHBOURS = 200  # a storm's newest children a new case is compared with


@dataclass(frozen=True)
class StormConfig:
    threshold: int = 10  # more than this many similar open cases make a storm
    window_minutes: float = 30.0
    similarity: float = 0.8  # cosine


@dataclass
class Placement:
    """Where a new case went: a master's child, a near-duplicate, or on its own."""

    master: Case | None = None
    created_master: bool = False
    duplicate_of: int | None = None
    folded: list[Case] = field(default_factory=list)  # cases that became children now


def most_similar(
    vector: Vectors, candidates: Sequence[tuple[int, Vectors | bytes]], minimum: float
) -> list[tuple[int, float]]:
    """(case id, cosine) of the candidates at least `minimum` similar, most similar first.

    Candidates come as vectors or as stored (little-endian float32) bytes.
    """
    if not candidates:
        return []
    sims = _matrix([v for _, v in candidates]) @ vector
    found = [(candidates[int(i)][0], float(sims[i])) for i in np.flatnonzero(sims >= minimum)]
    return sorted(found, key=lambda pair: -pair[1])


def _matrix(rows: Sequence[Vectors | bytes]) -> Vectors:
    """One row per vector; stored bytes are read in one go (hundreds per new case)."""
    blobs = [row for row in rows if isinstance(row, bytes)]
    if len(blobs) == len(rows):
        return rows_from_bytes(blobs)
    return np.vstack([from_bytes(row) if isinstance(row, bytes) else row for row in rows])


async def storm_lock(session: AsyncSession) -> None:
    """One storm decision at a time across processes, until the transaction ends (PostgreSQL;
    SQLite's writers are one at a time already)."""
    if is_postgres(session):
        lock = text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=STORM_LOCK)
        await session.exec(lock)  # type: ignore[call-overload]


async def place(
    session: AsyncSession, case: Case, vector: Vectors, now: datetime, config: StormConfig
) -> Placement:
    """Store the case's embedding and fold it into a storm or link it to its near-duplicate."""
    await storm_lock(session)
    since = now - timedelta(minutes=config.window_minutes)
    session.add(CaseEmbedding(case_id=case.number, vector=to_bytes(vector), created_at=now))
    placement = Placement()

    masters = await storm_queries.open_masters(session)
    by_id = {m.number: m for m in masters}
    # A new case joins a storm when it is like the master's first report or like one of its
    # newest children (a storm drifts: other order numbers, other words).
    known: list[tuple[int, Vectors | bytes]] = list(
        await storm_queries.embeddings(session, list(by_id))
    )
    children = await storm_queries.recent_children_embeddings(
        session, list(by_id), since, limit=STORM_NEIGHBOURS
    )
    master_of = {cid: cid for cid, _ in known} | {cid: mid for mid, cid, _ in children}
    known += [(cid, v) for _, cid, v in children]
    near_master = most_similar(vector, known, config.similarity)
    if near_master:
        master = by_id[master_of[near_master[0][0]]]
        _join(session, case, master, now)
        placement.master = master
        return placement

    recent = await storm_queries.recent_open_embeddings(session, since, exclude=case.number)
    similar = most_similar(vector, recent, config.similarity)
    if similar:
        placement.duplicate_of = case.duplicate_of = similar[0][0]
    if len(similar) + 1 <= config.threshold:
        return placement

    master = await _raise_master(session, case, vector, now, len(similar) + 1)
    placement.master, placement.created_master = master, True
    for cid, _ in similar:
        child = await session.get(Case, cid)
        if child is not None and child.master_id is None and not child.is_master:
            _join(session, child, master, now)
            placement.folded.append(child)
            enqueue(session, child, OutboxKind.CASE_CARD)  # its card collapses
    _join(session, case, master, now)
    return placement


def _join(session: AsyncSession, case: Case, master: Case, now: datetime) -> None:
    case.master_id = master.number
    case.updated_at = now
    master.updated_at = now
    audit(session, case.number, "case.folded", "storms", master=master.number)


async def _raise_master(
    session: AsyncSession, first: Case, vector: Vectors, now: datetime, count: int
) -> Case:
    customer = await storm_queries.incident_customer(session)
    if customer is None:
        customer = Customer(name=INCIDENT_CUSTOMER)
        session.add(customer)
        await session.flush()
    assert customer.id is not None
    master = Case(
        customer_id=customer.id,
        subject=f"Incident: {first.subject}"[:200],
        source=Channel.STORM,
        is_master=True,
        category=first.category,
        request_type=first.request_type,
        triage_source=first.triage_source,
        triage_confidence=first.triage_confidence,
        urgency=max(first.urgency, 0.9),
        sla_due_at=first.sla_due_at,
        escalation_reasons=[EscalationReason.STORM.value],
        escalation_level=1,
        created_at=now,
        updated_at=now,
    )
    session.add(master)
    await session.flush()
    session.add(CaseEmbedding(case_id=master.number, vector=to_bytes(vector), created_at=now))
    audit(session, master.number, "incident.opened", "storms", similar_cases=count)
    audit(session, master.number, "case.escalated", "storms", reason=EscalationReason.STORM.value)
    enqueue(
        session,
        master,
        OutboxKind.ESCALATION_ALERT,
        reason=EscalationReason.STORM.value,
        summary=f"{count} similar cases within the storm window: {first.subject}",
        by="storms",
    )
    enqueue(session, master, OutboxKind.CASE_CARD)
    return master

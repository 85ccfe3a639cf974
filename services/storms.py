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


@dataclass
class Storms:
    """The open masters and the embeddings a new case is compared with, read once per
    transaction: a storm's group of new cases (the intake line's) would otherwise read the
    same few hundred vectors again for each case. Kept current as cases join; valid only in
    the transaction that read it, which holds the storm lock."""

    transaction: object
    masters: dict[int, Case]
    firsts: tuple[list[int], Vectors]  # each master's own embedding (its first report)
    children: tuple[list[tuple[int, int]], Vectors]  # (master, child), newest first

    def nearest_master(self, vector: Vectors, minimum: float) -> Case | None:
        """The open master whose first report or newest children are most like `vector`."""
        best: tuple[float, int] | None = None
        pairs, children = self.children
        for master_ids, matrix in (self.firsts, ([m for m, _ in pairs], children)):
            if not master_ids:
                continue
            sims = matrix @ vector
            top = int(np.argmax(sims))
            if sims[top] >= minimum and (best is None or sims[top] > best[0]):
                best = (float(sims[top]), master_ids[top])
        return self.masters[best[1]] if best is not None else None

    def joined(self, master: Case, child: Case, vector: Vectors | bytes) -> None:
        """`child` joined `master`: the next case is compared with it too (the newest
        STORM_NEIGHBOURS children are kept, as the query reads them)."""
        row = from_bytes(vector) if isinstance(vector, bytes) else np.asarray(vector, np.float32)
        pairs = [(master.number, child.number), *self.children[0]]
        matrix = np.vstack([row[None, :], self.children[1]])
        order = sorted(range(len(pairs)), key=lambda i: -pairs[i][1])[:STORM_NEIGHBOURS]
        self.children = ([pairs[i] for i in order], matrix[order])

    def raised(self, master: Case, vector: Vectors) -> None:
        ids, matrix = self.firsts
        self.masters[master.number] = master
        self.firsts = ([*ids, master.number], np.vstack([matrix, np.asarray(vector)[None, :]]))


STORMS_KEY = "casebot.storms"


def _transaction(session: AsyncSession) -> object:
    return session.sync_session.get_transaction()


async def storms_in(session: AsyncSession, since: datetime, dimension: int) -> Storms:
    """This transaction's `Storms`, read now if it has none yet."""
    cached = session.info.get(STORMS_KEY)
    if isinstance(cached, Storms) and cached.transaction is _transaction(session):
        return cached
    masters = {m.number: m for m in await storm_queries.open_masters(session)}
    firsts = await storm_queries.embeddings(session, list(masters))
    children = await storm_queries.recent_children_embeddings(
        session, list(masters), since, limit=STORM_NEIGHBOURS
    )
    empty = np.zeros((0, dimension), dtype=np.float32)
    view = Storms(
        _transaction(session),
        masters,
        ([cid for cid, _ in firsts], rows_from_bytes([v for _, v in firsts]) if firsts else empty),
        (
            [(mid, cid) for mid, cid, _ in children],
            rows_from_bytes([v for _, _, v in children]) if children else empty,
        ),
    )
    session.info[STORMS_KEY] = view
    return view


def forget_storms(session: AsyncSession) -> None:
    """A savepoint that placed cases was rolled back: what was read and joined is not so."""
    session.info.pop(STORMS_KEY, None)


async def place(
    session: AsyncSession, case: Case, vector: Vectors, now: datetime, config: StormConfig
) -> Placement:
    """Store the case's embedding and fold it into a storm or link it to its near-duplicate."""
    await storm_lock(session)
    since = now - timedelta(minutes=config.window_minutes)
    session.add(CaseEmbedding(case_id=case.number, vector=to_bytes(vector), created_at=now))
    placement = Placement()

    # A new case joins a storm when it is like the master's first report or like one of its
    # newest children (a storm drifts: other order numbers, other words).
    storms = await storms_in(session, since, len(vector))
    master = storms.nearest_master(vector, config.similarity)
    if master is not None:
        _join(session, case, master, now)
        storms.joined(master, case, vector)
        placement.master = master
        return placement

    recent = await storm_queries.recent_open_embeddings(session, since, exclude=case.number)
    similar = most_similar(vector, recent, config.similarity)
    if similar:
        placement.duplicate_of = case.duplicate_of = similar[0][0]
    if len(similar) + 1 <= config.threshold:
        return placement

    master = await _raise_master(session, case, vector, now, len(similar) + 1)
    storms.raised(master, vector)
    placement.master, placement.created_master = master, True
    vectors = dict(recent)
    for cid, _ in similar:
        child = await session.get(Case, cid)
        if child is not None and child.master_id is None and not child.is_master:
            _join(session, child, master, now)
            placement.folded.append(child)
            storms.joined(master, child, vectors[cid])
            enqueue(session, child, OutboxKind.CASE_CARD)  # its card collapses
    _join(session, case, master, now)
    storms.joined(master, case, vector)
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

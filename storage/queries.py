"""Reads and small writes shared by the services and the delivery layer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy import case as sql_case
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, CaseStatus, Customer, Direction, Message

ACTIVE = (CaseStatus.OPEN, CaseStatus.ASSIGNED)


async def message_by_external_id(
    session: AsyncSession, source: str, external_id: str
) -> Message | None:
    """The stored message with this id from this source, if any (idempotency)."""
    stmt = select(Message).where(Message.source == source, Message.external_id == external_id)
    return (await session.exec(stmt)).first()


async def case_of_messages(
    session: AsyncSession, source: str, external_ids: Sequence[str]
) -> int | None:
    """The case of the newest stored message among `external_ids` from `source`."""
    stmt = (
        select(Message.case_id)
        .where(Message.source == source, col(Message.external_id).in_(list(external_ids)[:100]))
        .order_by(col(Message.id).desc())
        .limit(1)
    )
    return (await session.exec(stmt)).first()


async def customer_by_identity(
    session: AsyncSession, *, slack_user_id: str | None, email: str | None, phone: str | None
) -> Customer | None:
    """The customer known by any of these identities."""
    conditions: list[ColumnElement[bool]] = []
    if slack_user_id:
        conditions.append(col(Customer.slack_user_id) == slack_user_id)
    if email:
        conditions.append(func.lower(Customer.email) == email.lower())
    if phone:
        conditions.append(col(Customer.phone) == phone)
    if not conditions:
        return None
    return (await session.exec(select(Customer).where(or_(*conditions)).limit(1))).first()


async def known_identities(
    session: AsyncSession, slack_user_ids: set[str], emails: set[str], phones: set[str]
) -> set[str]:
    """Which of these identities a customer already has, in one query on the unique indexes:
    Slack user ids and phone numbers as they are, email addresses lower-cased (as stored)."""
    conditions: list[ColumnElement[bool]] = []
    if slack_user_ids:
        conditions.append(col(Customer.slack_user_id).in_(sorted(slack_user_ids)))
    if emails:
        conditions.append(col(Customer.email).in_(sorted(emails)))
    if phones:
        conditions.append(col(Customer.phone).in_(sorted(phones)))
    if not conditions:
        return set()
    stmt = select(Customer.slack_user_id, Customer.email, Customer.phone)
    known: set[str] = set()
    for row in await session.exec(stmt.where(or_(*conditions))):
        known.update(value for value in row if value)
    return known


async def stored_external_ids(
    session: AsyncSession, ids: set[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these (source, external id) pairs are stored messages, in one query."""
    by_source: dict[str, list[str]] = {}
    for source, external_id in sorted(ids):
        by_source.setdefault(source, []).append(external_id)
    if not by_source:
        return set()
    stmt = select(Message.source, Message.external_id).where(
        or_(
            *(
                and_(col(Message.source) == source, col(Message.external_id).in_(external_ids))
                for source, external_ids in by_source.items()
            )
        )
    )
    return {(str(source), str(external_id)) for source, external_id in await session.exec(stmt)}


async def latest_live_case(
    session: AsyncSession, customer_id: int, *, lock: bool = False
) -> Case | None:
    """The customer's newest case that is not closed."""
    stmt = (
        select(Case)
        .where(Case.customer_id == customer_id, col(Case.status) != CaseStatus.CLOSED)
        .order_by(col(Case.id).desc())
        .limit(1)
    )
    if lock:
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).first()


async def get_case(session: AsyncSession, case_id: int, *, lock: bool = False) -> Case | None:
    """One case by number, optionally locked for update (PostgreSQL)."""
    stmt = select(Case).where(Case.id == case_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).first()


async def case_by_card(session: AsyncSession, channel: str, ts: str) -> Case | None:
    """The case whose card is the message `ts` in `channel`."""
    stmt = select(Case).where(Case.card_channel == channel, Case.card_ts == ts)
    return (await session.exec(stmt)).first()


async def case_by_origin(session: AsyncSession, channel: str, thread_ts: str) -> Case | None:
    """The case opened by the customer's message `thread_ts` in `channel`."""
    stmt = (
        select(Case)
        .where(Case.origin_channel == channel, Case.origin_thread_ts == thread_ts)
        .order_by(col(Case.id).desc())
        .limit(1)
    )
    return (await session.exec(stmt)).first()


def queue_order() -> tuple[object, ...]:
    """Escalated first, then urgency, then the SLA due time (untriaged last), then age."""
    escalated = sql_case((col(Case.escalation_level) > 0, 0), else_=1)
    no_sla = sql_case((col(Case.sla_due_at).is_(None), 1), else_=0)
    return (
        escalated,
        col(Case.urgency).desc(),
        no_sla,
        col(Case.sla_due_at).asc(),
        col(Case.created_at).asc(),
        col(Case.id).asc(),
    )


async def queue(
    session: AsyncSession,
    *,
    limit: int,
    offset: int = 0,
    unassigned_only: bool = False,
    assignee: str | None = None,
    lock: bool = False,
) -> Sequence[Case]:
    """Active cases by priority (all, unassigned ones, or one agent's; a page from `offset`);
    `lock` locks the rows it returns on PostgreSQL.

    A locked row is waited for, never skipped: a case is locked for a moment by whatever
    touches it (its card being recorded, a reply), and skipping it would hand out a case of
    lower priority. Two claims at once do not collide: the second waits, finds the first's
    case taken (PostgreSQL re-checks the WHERE on the row's new version) and takes the next.

    A storm's children are left out: their master incident stands for them.
    """
    stmt = select(Case).where(col(Case.status).in_(ACTIVE), col(Case.master_id).is_(None))
    if unassigned_only:
        stmt = stmt.where(col(Case.assignee).is_(None))
    if assignee is not None:
        stmt = stmt.where(Case.assignee == assignee)
    stmt = stmt.order_by(*queue_order()).offset(offset).limit(limit)  # type: ignore[arg-type]
    if lock and is_postgres(session):
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).all()


async def find_cases(session: AsyncSession, text: str, *, limit: int) -> Sequence[Case]:
    """Cases whose subject or any message contains `text` (case-insensitive), newest first."""
    pattern = f"%{_escape_like(text.lower())}%"
    in_messages = select(Message.case_id).where(func.lower(Message.body).like(pattern, escape="\\"))
    stmt = (
        select(Case)
        .where(
            or_(
                func.lower(Case.subject).like(pattern, escape="\\"),
                col(Case.id).in_(in_messages),
            )
        )
        .order_by(col(Case.id).desc())
        .limit(limit)
    )
    return (await session.exec(stmt)).all()


async def due_for_inactivity(
    session: AsyncSession, cutoff: datetime, *, limit: int
) -> Sequence[Case]:
    """Active cases whose customer has waited since before `cutoff` without an agent reply."""
    stmt = (
        select(Case)
        .where(
            col(Case.status).in_(ACTIVE),
            col(Case.inactivity_alerted_at).is_(None),
            col(Case.last_customer_message_at) <= cutoff,
            or_(
                col(Case.last_agent_message_at).is_(None),
                col(Case.last_agent_message_at) < col(Case.last_customer_message_at),
            ),
        )
        .order_by(col(Case.last_customer_message_at))
        .limit(limit)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return (await session.exec(stmt)).all()


async def count_active(session: AsyncSession) -> int:
    """Open and assigned cases."""
    stmt = select(func.count()).select_from(Case).where(col(Case.status).in_(ACTIVE))
    return int((await session.exec(stmt)).one())


async def due_for_sla(session: AsyncSession, now: datetime, *, limit: int) -> Sequence[Case]:
    """Active cases past their SLA due time that no agent has answered, not alerted yet."""
    stmt = (
        select(Case)
        .where(
            col(Case.status).in_(ACTIVE),
            col(Case.sla_alerted_at).is_(None),
            col(Case.sla_due_at) <= now,
            col(Case.last_agent_message_at).is_(None),
        )
        .order_by(col(Case.sla_due_at))
        .limit(limit)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return (await session.exec(stmt)).all()


async def last_customer_message(session: AsyncSession, case_id: int) -> Message | None:
    """The newest inbound message of a case."""
    stmt = (
        select(Message)
        .where(Message.case_id == case_id, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id).desc())
        .limit(1)
    )
    return (await session.exec(stmt)).first()


async def first_customer_message(session: AsyncSession, case_id: int) -> Message | None:
    """The oldest inbound message of a case."""
    stmt = (
        select(Message)
        .where(Message.case_id == case_id, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id).asc())
        .limit(1)
    )
    return (await session.exec(stmt)).first()


async def messages_of(session: AsyncSession, case_id: int) -> Sequence[Message]:
    """A case's messages in order."""
    stmt = select(Message).where(Message.case_id == case_id).order_by(col(Message.id))
    return (await session.exec(stmt)).all()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def last_external_id(session: AsyncSession, source: str, prefix: str) -> str | None:
    """The greatest external id of `source`'s messages starting with `prefix` (Slack's
    `<channel>:<ts>`: ts strings of one length sort as numbers), or None."""
    stmt = select(func.max(Message.external_id)).where(
        col(Message.source) == source, col(Message.external_id).startswith(prefix)
    )
    return (await session.exec(stmt)).one()

"""The one way a case changes status: the transition table, the timestamps, the audit entry
and the card update, together."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.audit import audit
from services.outbox import OutboxKind, enqueue
from services.transitions import Action, next_status
from services.types import Actor
from storage.models import Case, CaseStatus


def transition(
    session: AsyncSession,
    case: Case,
    action: Action,
    *,
    now: datetime,
    actor: str | None = None,
    event: str | None = None,
    card: bool = True,
    **data: object,
) -> Case:
    """Apply `action` (or raise InvalidTransition): the new status and the timestamps it
    implies, `event` audited by `actor`, and the card redrawn unless `card` is False."""
    before = case.status
    case.status = next_status(case.number, before, action, assigned=bool(case.assignee))
    case.updated_at = now
    if case.status == CaseStatus.RESOLVED and before != CaseStatus.RESOLVED:
        case.resolved_at = now
    elif before == CaseStatus.RESOLVED and case.status in (CaseStatus.OPEN, CaseStatus.ASSIGNED):
        case.resolved_at = None
    if case.status == CaseStatus.CLOSED:
        case.closed_at = now
    if event is not None:
        audit(session, case.number, event, actor or "casebot", **data)
    if card:
        enqueue(session, case, OutboxKind.CASE_CARD)
    return case


def close_case(
    session: AsyncSession, case: Case, actor: Actor, now: datetime, *, reason: str | None = None
) -> None:
    """Close for good, whoever does it: the closure line for the log channel names them
    (`closed_by`: an agent's id, or `casebot (auto)`), `reason` is audited."""
    data = {"reason": reason} if reason else {}
    transition(
        session,
        case,
        Action.CLOSE,
        now=now,
        actor=actor.label,
        event="case.closed",
        card=False,
        **data,
    )
    case.closed_by = actor.id
    enqueue(session, case, OutboxKind.CLOSURE_LOG, closed_at=now.isoformat(), closed_by=actor.id)

"""Escalation: new reasons alert once each; the sweep finds cases that waited too long."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.audit import audit
from services.outbox import OutboxKind, enqueue
from services.rules import CaseFacts, EscalationReason, RulesConfig, escalation_reasons, new_reasons
from services.types import SYSTEM, Actor
from storage.engine import SessionFactory
from storage.models import Case
from storage.queries import due_for_inactivity, due_for_sla

log = logging.getLogger(__name__)

SUMMARY_CHARS = 300


def escalate(
    session: AsyncSession,
    case: Case,
    reasons: list[str],
    *,
    actor: Actor,
    now: datetime,
    summary: str,
) -> list[str]:
    """Add the reasons not alerted yet to `case`, audit them and queue one alert each."""
    fresh = new_reasons(reasons, case.escalation_reasons)
    if not fresh:
        return []
    case.escalation_reasons = [*case.escalation_reasons, *fresh]
    case.escalation_level += len(fresh)
    case.updated_at = now
    if EscalationReason.INACTIVITY in fresh:
        case.inactivity_alerted_at = now
    if EscalationReason.SLA in fresh:
        case.sla_alerted_at = now
    for reason in fresh:
        audit(session, case.number, "case.escalated", actor.label, reason=reason)
        log.info(
            "case #%s escalated: %s",
            case.number,
            reason,
            extra={"case": case.number, "reason": reason},
        )
        enqueue(
            session,
            case,
            OutboxKind.ESCALATION_ALERT,
            reason=reason,
            summary=summary[:SUMMARY_CHARS],
            by=actor.id,
        )
    enqueue(session, case, OutboxKind.CASE_CARD)
    return fresh


def automatic_reasons(case: Case, now: datetime, rules: RulesConfig, text: str = "") -> list[str]:
    """The rule-based reasons that hold for `case` now."""
    facts = CaseFacts(
        consecutive_customer_messages=case.consecutive_customer_messages,
        last_customer_at=case.last_customer_message_at,
        last_agent_at=case.last_agent_message_at,
        text=text,
        urgency=case.urgency,
        sla_due_at=case.sla_due_at,
    )
    return sorted(str(r) for r in escalation_reasons(facts, now, rules))


class EscalationSweep:
    """The periodic check: customers waiting too long, and first answers past their SLA."""

    BATCH = 500

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        rules: RulesConfig,
        clock: Callable[[], datetime],
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._rules = rules
        self._clock = clock
        self._notify = notify

    async def run(self) -> int:
        """Escalate every due case once; returns how many alerts were queued."""
        now = self._clock()
        cutoff = now - timedelta(hours=self._rules.inactivity_hours)
        alerted = 0
        async with self._sessions() as session, session.begin():
            inactive = await due_for_inactivity(session, cutoff, limit=self.BATCH)
            late = await due_for_sla(session, now, limit=self.BATCH)
            for case in late:
                case.sla_alerted_at = now  # even when the reason was already alerted
            due = [(case, EscalationReason.INACTIVITY, _waiting(case)) for case in inactive]
            due += [(case, EscalationReason.SLA, _unanswered(case)) for case in late]
            for case, reason, summary in due:
                alerted += len(
                    escalate(session, case, [reason.value], actor=SYSTEM, now=now, summary=summary)
                )
        if alerted:
            self._notify()
        return alerted


def _waiting(case: Case) -> str:
    return f"{case.subject} (waiting since {case.last_customer_message_at:%Y-%m-%d %H:%M} UTC)"


def _unanswered(case: Case) -> str:
    return f"{case.subject} (no answer; the SLA was due {case.sla_due_at:%Y-%m-%d %H:%M} UTC)"

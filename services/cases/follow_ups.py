"""After the answer: resolved cases close on their own after AUTO_CLOSE_DAYS, and a customer
who has not answered an agent's question for CUSTOMER_NUDGE_HOURS is nudged once.

A sweep (like escalation and reminders): each batch is one transaction, its cases locked on
PostgreSQL, so several processes close or nudge a case once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.audit import audit
from services.cases.transition import close_case
from services.outbox import OutboxKind, enqueue
from services.rules import asks_a_question
from services.types import Actor
from storage import follow_up_queries
from storage.engine import SessionFactory
from storage.models import utcnow

# Who closes a case nobody closed: the closure line reads "… by casebot (auto)".
AUTO = Actor(id="casebot (auto)", name="casebot (auto)", is_agent=True)


@dataclass(frozen=True)
class FollowUpConfig:
    auto_close_days: float = 7.0  # 0: resolved cases stay resolved
    nudge_hours: float = 48.0  # 0: no nudges


class FollowUpSweep:
    BATCH = 200

    def __init__(
        self,
        sessions: SessionFactory,
        config: FollowUpConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock
        self._notify = notify

    async def run(self) -> int:
        """Close what is due and nudge who is due; how many cases were acted on."""
        closed = await self.close_resolved() if self._config.auto_close_days > 0 else 0
        nudged = await self.nudge() if self._config.nudge_hours > 0 else 0
        if closed or nudged:
            self._notify()
        return closed + nudged

    async def close_resolved(self) -> int:
        now = self._clock()
        cutoff = now - timedelta(days=self._config.auto_close_days)
        closed = 0
        while True:
            async with self._sessions() as session, session.begin():
                due = await follow_up_queries.due_to_close(session, cutoff, limit=self.BATCH)
                for case in due:
                    close_case(session, case, AUTO, now, reason="resolved, no reply")
                    enqueue(session, case, OutboxKind.CASE_CARD)
            closed += len(due)
            if len(due) < self.BATCH:
                return closed

    async def nudge(self) -> int:
        now = self._clock()
        cutoff = now - timedelta(hours=self._config.nudge_hours)
        nudged = 0
        while True:
            async with self._sessions() as session, session.begin():
                due = await follow_up_queries.waiting_on_customer(session, cutoff, limit=self.BATCH)
                for case in due:
                    case.nudge_checked_at = case.last_agent_message_at
                    reply = await follow_up_queries.last_reply(session, case.number)
                    if reply is None or not asks_a_question(reply.body):
                        continue
                    audit(session, case.number, "customer.nudged", "casebot")
                    enqueue(session, case, OutboxKind.CUSTOMER_NUDGE)
                    nudged += 1
            if len(due) < self.BATCH:
                return nudged

"""The reminder: once, REMINDER_HOURS after a case opened, while it is still open (rule 4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from services.audit import audit
from services.outbox import OutboxKind, enqueue
from storage.engine import SessionFactory
from storage.mail_queries import due_for_reminder
from storage.models import utcnow


class ReminderSweep:
    """Finds due cases through an index and marks each in the same transaction as its row."""

    BATCH = 500

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        hours: float,
        clock: Callable[[], datetime] = utcnow,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._hours = hours
        self._clock = clock
        self._notify = notify

    async def run(self) -> int:
        """Queue the reminder of every due case once; returns how many were queued."""
        now = self._clock()
        cutoff = now - timedelta(hours=self._hours)
        queued = 0
        while True:
            async with self._sessions() as session, session.begin():
                due = await due_for_reminder(session, cutoff, limit=self.BATCH)
                for case in due:
                    case.reminder_sent_at = now
                    audit(session, case.number, "reminder.queued", "casebot")
                    enqueue(session, case, OutboxKind.CUSTOMER_REMINDER)
            queued += len(due)
            if len(due) < self.BATCH:
                break
        if queued:
            self._notify()
        return queued

"""What we sent by email: threads replies and bounces to their case, and caps automatic mail.

A mail loop with another robot, or a flood of cases from one address, must not make us send
an unbounded stream of acknowledgements: automatic mail to one address is capped per hour.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from services.audit import audit
from storage import mail_queries
from storage.engine import SessionFactory
from storage.models import SentEmail, utcnow


class SentMail:
    def __init__(self, sessions: SessionFactory, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._clock = clock

    async def record(
        self, *, case_id: int, message_id: str, recipient: str, kind: str, automatic: bool
    ) -> None:
        """Remember a sent mail; recording the same Message-ID again (a retry) is a no-op."""
        try:
            async with self._sessions() as session, session.begin():
                if await mail_queries.sent_email(session, message_id) is not None:
                    return
                session.add(
                    SentEmail(
                        message_id=message_id,
                        case_id=case_id,
                        recipient=recipient.lower(),
                        kind=kind,
                        automatic=automatic,
                        sent_at=self._clock(),
                    )
                )
        except IntegrityError:
            return  # another process recorded it first

    async def over_cap(self, recipient: str, per_hour: int) -> bool:
        """True when `recipient` already got `per_hour` automatic mails in the last hour."""
        since = self._clock() - timedelta(hours=1)
        async with self._sessions() as session:
            sent = await mail_queries.automatic_sent_since(session, recipient.lower(), since)
        return sent >= per_hour

    async def skipped(self, *, case_id: int, kind: str, recipient: str, reason: str) -> None:
        """Keep a record of an automatic mail we chose not to send."""
        async with self._sessions() as session, session.begin():
            audit(
                session,
                case_id,
                "email.suppressed",
                "casebot",
                kind=kind,
                to=recipient,
                reason=reason,
            )

    async def thread(self, case_id: int, source: str) -> list[tuple[str, bool]]:
        """The case's Message-IDs, oldest first, each with "is it ours": for threading."""
        async with self._sessions() as session:
            return await mail_queries.thread_ids(session, case_id, source)

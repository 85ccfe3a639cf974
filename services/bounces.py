"""Bounces (delivery status notifications) land on the case of the mail they bounce.

A bounce is never a customer: it opens no case and gets no answer. Agents see it in the
case's thread, so they know the customer did not get the mail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.audit import audit
from services.outbox import OutboxKind, enqueue
from storage import mail_queries, queries
from storage.engine import SessionFactory
from storage.models import Direction, Message, utcnow

AUTHOR = "Mail delivery system"
SUMMARY_CHARS = 1_000


@dataclass(frozen=True)
class Bounce:
    source: str
    external_id: str  # the bounce's own Message-ID: a redelivered bounce is a no-op
    bounced_message_id: str | None
    summary: str


class Bounces:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        clock: Callable[[], datetime] = utcnow,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._notify = notify

    async def attach(self, bounce: Bounce) -> int | None:
        """The case the bounce was attached to, or None when it matches no mail of ours."""
        if not bounce.bounced_message_id:
            return None
        async with self._sessions() as session, session.begin():
            stored = await queries.message_by_external_id(
                session, bounce.source, bounce.external_id
            )
            if stored is not None:
                return stored.case_id
            case_id = await mail_queries.case_of_sent_email(
                session, [bounce.bounced_message_id]
            ) or await queries.case_of_messages(session, bounce.source, [bounce.bounced_message_id])
            case = await queries.get_case(session, case_id, lock=True) if case_id else None
            if case is None:
                return None
            now = self._clock()
            summary = bounce.summary.strip()[:SUMMARY_CHARS] or "(no explanation given)"
            session.add(
                Message(
                    case_id=case.number,
                    direction=Direction.INTERNAL,
                    author=AUTHOR,
                    body=summary,
                    source=bounce.source,
                    external_id=bounce.external_id,
                    created_at=now,
                )
            )
            case.updated_at = now
            audit(session, case.number, "email.bounced", AUTHOR, bounced=bounce.bounced_message_id)
            enqueue(
                session,
                case,
                OutboxKind.CASE_THREAD,
                text=f"Our mail {bounce.bounced_message_id} was not delivered:\n{summary}",
                author=AUTHOR,
                role="system",
            )
        self._notify()
        return case.number

    async def refused(self, case_id: int, message_id: str, recipient: str, why: str) -> None:
        """Our mail was refused for good at sending (the relay's 5xx): agents learn it in the
        case's thread, as for a bounce, and the audit trail keeps it."""
        async with self._sessions() as session, session.begin():
            case = await queries.get_case(session, case_id, lock=True)
            if case is None:
                return
            said = why.strip()[:SUMMARY_CHARS] or "(no explanation given)"
            audit(session, case.number, "email.refused", AUTHOR, message=message_id, reason=said)
            enqueue(
                session,
                case,
                OutboxKind.CASE_THREAD,
                text=f"Our mail {message_id} to {recipient} was refused, not retried:\n{said}",
                author=AUTHOR,
                role="system",
            )
        self._notify()

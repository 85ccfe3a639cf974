"""The external ticket system's id for a case: recorded once, audited, shown on the card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.audit import audit
from services.errors import CaseNotFound
from services.outbox import OutboxKind, enqueue
from storage import queries
from storage.engine import SessionFactory
from storage.models import utcnow

TICKET_ID_MAX_CHARS = 100  # cases.ticket_id


class TicketSync:
    """Stores the id the external ticket system gave a case (see handlers.tickets)."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        clock: Callable[[], datetime] = utcnow,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._notify = notify  # wakes the outbox dispatcher after a commit

    async def record(self, *, case_id: int, ticket_id: str) -> bool:
        """Store `ticket_id` on the case, audit `ticket.synced` and redraw the card; False when
        the case already had this id (a sync delivered twice: at least once)."""
        async with self._sessions() as session, session.begin():
            case = await queries.get_case(session, case_id, lock=True)
            if case is None:
                raise CaseNotFound(case_id)
            if case.ticket_id == ticket_id:
                return False
            replaced = case.ticket_ref
            case.ticket_id = ticket_id
            case.ticket_synced_at = self._clock()
            audit(
                session,
                case.number,
                "ticket.synced",
                "casebot",
                ticket_id=ticket_id,
                replaces=replaced,
            )
            if case.master_id is None:  # a storm's child has no card of its own
                enqueue(session, case, OutboxKind.CASE_CARD)
        self._notify()
        return True

"""What the HTTP API reads: a case with its messages and audit trail, pages of cases, and
the desk's statistics. Nothing here writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.errors import CaseNotFound
from services.home import median
from storage import api_queries, home_queries, queries, ticket_queries
from storage.engine import SessionFactory
from storage.models import AuditEvent, Case, Customer, Message, OutboxItem, utcnow

# The median first response covers cases first answered within this window: recent enough
# to say how the desk does now, and a bounded read however long the history grows.
FIRST_RESPONSE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class CaseRecord:
    case: Case
    customer: Customer
    messages: Sequence[Message]
    audit: Sequence[AuditEvent]
    master: Case | None = None  # the storm's master incident, for a folded case


@dataclass(frozen=True)
class DeskStats:
    by_status: dict[str, int]
    by_category: dict[str, int]
    escalated: int
    median_first_response: timedelta | None


class ApiReads:
    """Reads for the API; keyword-light, typed, one session each."""

    def __init__(self, sessions: SessionFactory, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._clock = clock

    async def number_by_public_id(self, public_id: str) -> int | None:
        """The case number behind a case's UUID (None: no such case)."""
        async with self._sessions() as session:
            return await api_queries.number_by_public_id(session, public_id)

    async def record(self, case_id: int) -> CaseRecord:
        """The case with its customer, messages and audit trail, or CaseNotFound."""
        async with self._sessions() as session:
            case = await queries.get_case(session, case_id)
            if case is None:
                raise CaseNotFound(case_id)
            customer = await session.get(Customer, case.customer_id)
            assert customer is not None
            master = await queries.get_case(session, case.master_id) if case.master_id else None
            return CaseRecord(
                case=case,
                customer=customer,
                messages=await queries.messages_of(session, case_id),
                audit=await api_queries.audit_of(session, case_id),
                master=master,
            )

    async def queue(
        self, *, limit: int, offset: int, unassigned_only: bool = False
    ) -> Sequence[Case]:
        """Active cases by priority, one page (storm children are behind their master)."""
        async with self._sessions() as session:
            return await queries.queue(
                session, limit=limit, offset=offset, unassigned_only=unassigned_only
            )

    async def submitted_ids(self, cases: Sequence[Case]) -> dict[int, str]:
        """For cases filed from `POST /tickets`, the ticket id their caller knows."""
        async with self._sessions() as session:
            return await ticket_queries.submitted_ids(session, [c.number for c in cases])

    async def masters(self, cases: Sequence[Case]) -> dict[int, Case]:
        """The master incidents of these cases that were folded into a storm, by number."""
        ids = {c.master_id for c in cases if c.master_id is not None}
        if not ids:
            return {}
        async with self._sessions() as session:
            found = await api_queries.cases_numbered(session, ids)
        return {c.number: c for c in found}

    async def deliveries(self, case_id: int) -> Sequence[OutboxItem]:
        """What was sent, or waits to be sent, about the case; CaseNotFound for no case."""
        async with self._sessions() as session:
            if await queries.get_case(session, case_id) is None:
                raise CaseNotFound(case_id)
            return await ticket_queries.deliveries_of(session, case_id)

    async def customer_cases(
        self, external_id: str, *, limit: int, offset: int
    ) -> Sequence[Case] | None:
        """The cases of the customer with this webhook/API id (None: no such customer)."""
        async with self._sessions() as session:
            customer = await api_queries.customer_by_phone(session, external_id)
            if customer is None or customer.id is None:
                return None
            return await api_queries.customer_cases(
                session, customer.id, limit=limit, offset=offset
            )

    async def stats(self) -> DeskStats:
        """Counts by status and category, active escalations, the median first response."""
        async with self._sessions() as session:
            return DeskStats(
                by_status=await api_queries.count_by_status(session),
                by_category=await api_queries.count_by_category(session),
                escalated=await api_queries.count_escalated(session),
                median_first_response=median(
                    await home_queries.first_responses_since(
                        session, self._clock() - FIRST_RESPONSE_WINDOW
                    )
                ),
            )

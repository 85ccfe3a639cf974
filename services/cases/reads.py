"""Reads of cases, for rendering and lookups."""

from __future__ import annotations

from collections.abc import Sequence

from services.cases.context import CaseContext, load
from services.types import CaseView
from storage import mail_queries, queries, storm_queries
from storage.models import Attachment, Case, Customer, Message


class CaseReads:
    """Everything that only looks at cases: read sessions, beside the writer on SQLite."""

    def __init__(self, ctx: CaseContext) -> None:
        self._ctx = ctx

    async def get(self, case_id: int) -> Case:
        """One case, or CaseNotFound."""
        async with self._ctx.reads() as session:
            return await load(session, case_id, lock=False)

    async def active_count(self) -> int:
        """How many cases are open or assigned."""
        async with self._ctx.reads() as session:
            return await queries.count_active(session)

    async def view(self, case_id: int) -> CaseView:
        """A case with its customer and latest customer message, for rendering."""
        async with self._ctx.reads() as session:
            case = await load(session, case_id, lock=False)
            customer = await session.get(Customer, case.customer_id)
            assert customer is not None
            last = await queries.last_customer_message(session, case_id)
            affected = await storm_queries.affected(session, case_id) if case.is_master else ()
            return CaseView(
                case=case,
                customer=customer,
                last_customer_message=last.body if last else "",
                affected=tuple(affected),
            )

    async def messages(self, case_id: int) -> Sequence[Message]:
        """A case's messages in order."""
        async with self._ctx.reads() as session:
            return await queries.messages_of(session, case_id)

    async def find(self, text: str, *, limit: int = 10) -> Sequence[Case]:
        """Cases mentioning `text`."""
        async with self._ctx.reads() as session:
            return await queries.find_cases(session, text, limit=limit)

    async def queue(self, *, limit: int = 15) -> Sequence[Case]:
        """Active cases by priority."""
        async with self._ctx.reads() as session:
            return await queries.queue(session, limit=limit)

    async def case_for_thread(
        self, source: str, case_number: int | None, references: Sequence[str]
    ) -> Case | None:
        """The case a mail thread belongs to, for any customer: only for authenticated agents."""
        async with self._ctx.reads() as session:
            if case_number is not None:
                case = await queries.get_case(session, case_number)
                if case is not None:
                    return case
            if not references:
                return None
            case_id = await mail_queries.case_of_sent_email(session, references)
            if case_id is None:
                case_id = await queries.case_of_messages(session, source, references)
            return await queries.get_case(session, case_id) if case_id is not None else None

    async def attachment(self, attachment_id: int) -> Attachment | None:
        """A stored customer file (its bytes are None when it was too large to keep)."""
        async with self._ctx.reads() as session:
            return await session.get(Attachment, attachment_id)

    async def case_for_card(self, channel: str, ts: str) -> Case | None:
        """The case whose card is this Slack message."""
        async with self._ctx.reads() as session:
            return await queries.case_by_card(session, channel, ts)

    async def case_for_origin(self, channel: str, thread_ts: str) -> Case | None:
        """The case opened by this customer message."""
        async with self._ctx.reads() as session:
            return await queries.case_by_origin(session, channel, thread_ts)

"""Which case a customer message continues: the subject tag, then the mail thread, then the
customer's newest open case (DESIGN.md, rule 1; issue #3's threading order).

A tag or a reference only counts for the case's own customer: quoting someone else's case
number must not put words into their case.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.types import InboundMessage
from storage import mail_queries, queries
from storage.models import Case, CaseStatus


async def continued_case(
    session: AsyncSession, inbound: InboundMessage, customer_id: int, *, lock: bool = True
) -> Case | None:
    """The case to append to (locked unless `lock` is false), or None when a new case must open.

    A closed case is never continued: a message that points at one starts a new case.
    """
    pointed = await _by_tag(session, inbound, customer_id, lock) or await _by_reference(
        session, inbound, customer_id, lock
    )
    if pointed is not None:
        return None if pointed.status == CaseStatus.CLOSED else pointed
    return await queries.latest_live_case(session, customer_id, lock=lock)


async def _by_tag(
    session: AsyncSession, inbound: InboundMessage, customer_id: int, lock: bool
) -> Case | None:
    if inbound.case_number is None:
        return None
    case = await queries.get_case(session, inbound.case_number, lock=lock)
    return case if case is not None and case.customer_id == customer_id else None


async def _by_reference(
    session: AsyncSession, inbound: InboundMessage, customer_id: int, lock: bool
) -> Case | None:
    if not inbound.references:
        return None
    case_id = await mail_queries.case_of_sent_email(
        session, inbound.references
    ) or await queries.case_of_messages(session, inbound.source, inbound.references)
    if case_id is None:
        return None
    case = await queries.get_case(session, case_id, lock=lock)
    return case if case is not None and case.customer_id == customer_id else None

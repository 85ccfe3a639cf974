"""Who a customer message is from: the identities its customer is stored by, and whether a
mail's id is really its sender's own."""

from __future__ import annotations

import hashlib

from sqlmodel.ext.asyncio.session import AsyncSession

from services.types import Channel, InboundMessage
from storage import queries
from storage.models import Customer, Message


async def same_sender(session: AsyncSession, stored: Message, inbound: InboundMessage) -> bool:
    """Whether a stored message with the same id came from the same sender: only then is
    the new one a redelivered copy. Mail ids are chosen by senders, so they are compared per
    address; other channels' ids are the platform's own."""
    if inbound.source != Channel.EMAIL or not inbound.customer.email:
        return True
    case = await queries.get_case(session, stored.case_id)
    customer = await session.get(Customer, case.customer_id) if case is not None else None
    return customer is None or (customer.email or "").casefold() == (
        inbound.customer.email.casefold()
    )


def identities(inbound: InboundMessage) -> list[tuple[str, str]]:
    """The sender's identities as customers are stored by them (services.customers)."""
    who = inbound.customer
    found = [("slack", who.slack_user_id), ("email", (who.email or "").lower())]
    return [(kind, value) for kind, value in [*found, ("phone", who.phone)] if value]


def sender_scoped(inbound: InboundMessage) -> str:
    """A mail's id made its sender's own: the Message-ID and a digest of the address."""
    digest = hashlib.sha256((inbound.customer.email or "").casefold().encode()).hexdigest()[:16]
    return f"{inbound.external_id[:230]}#{digest}"


async def first_contacts(session: AsyncSession, messages: list[InboundMessage]) -> list[bool]:
    """Which messages come from senders never seen (and are no redelivery), in two queries
    for them all. A sender that an earlier message of the same batch adds is reported new:
    such a message is classified for nothing, which is no worse."""
    who = [identities(m) for m in messages]
    known = await queries.known_identities(
        session,
        {i for ids in who for kind, i in ids if kind == "slack"},
        {i for ids in who for kind, i in ids if kind == "email"},
        {i for ids in who for kind, i in ids if kind == "phone"},
    )
    stored = await queries.stored_external_ids(
        session, {(m.source, m.external_id) for m in messages}
    )
    return [
        bool(ids) and not {i for _, i in ids} & known and (m.source, m.external_id) not in stored
        for m, ids in zip(messages, who, strict=True)
    ]

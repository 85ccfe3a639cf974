"""Customers: found by any of their channel identities, created on first contact."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.types import CustomerIdentity
from services.visible import visible
from storage.models import Customer
from storage.queries import customer_by_identity


async def get_or_create(session: AsyncSession, identity: CustomerIdentity) -> Customer:
    """The customer with this identity; a concurrent first contact resolves to one row."""
    if not (identity.slack_user_id or identity.email or identity.phone):
        raise ValueError("a customer needs a Slack user id, an email address or a phone number")
    name = visible(identity.name)[:200] if identity.name else identity.name
    found = await find(session, identity)
    if found is not None:
        if name and not found.name:
            found.name = name
        return found
    customer = Customer(
        name=name,
        slack_user_id=identity.slack_user_id,
        email=identity.email.lower() if identity.email else None,
        phone=identity.phone,
    )
    try:
        async with session.begin_nested():
            session.add(customer)
            await session.flush()
    except IntegrityError:
        found = await find(session, identity)
        if found is None:
            raise
        return found
    return customer


async def find(session: AsyncSession, identity: CustomerIdentity) -> Customer | None:
    return await customer_by_identity(
        session, slack_user_id=identity.slack_user_id, email=identity.email, phone=identity.phone
    )

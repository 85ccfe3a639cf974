"""The migrations build exactly the tables the models describe, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from storage.engine import SessionFactory, create_engine
from storage.migrate import alembic_config, current_revision, upgrade
from storage.models import Case, Customer, Direction, Message


async def test_migrations_match_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []


async def test_upgrade_is_idempotent(db_url: str) -> None:
    await upgrade(db_url)
    await upgrade(db_url)
    head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    assert head is not None and head.isdigit()
    assert await current_revision(db_url) == head


async def test_times_come_back_aware_utc(sessions: SessionFactory) -> None:
    paris = timezone(timedelta(hours=1))
    written = datetime(2026, 11, 23, 10, 30, 15, 123456, tzinfo=paris)
    async with sessions() as session, session.begin():
        customer = Customer(name="c", email="c@example.com", created_at=written)
        session.add(customer)
    async with sessions() as session:
        read = await session.get(Customer, customer.id)
    assert read is not None
    assert read.created_at == written and read.created_at.tzinfo is not None
    assert read.created_at.utcoffset() == timedelta(0)


async def test_naive_times_are_refused(sessions: SessionFactory) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with sessions() as session, session.begin():
            session.add(Customer(name="c", phone="+1555", created_at=datetime(2026, 1, 1)))


def inbound(case_id: int, source: str) -> Message:
    return Message(
        case_id=case_id,
        direction=Direction.INBOUND,
        author="c",
        body="x",
        source=source,
        external_id="same",
        created_at=datetime.now(UTC),
    )


async def test_external_id_is_unique_per_source(sessions: SessionFactory) -> None:
    async with sessions() as session, session.begin():
        customer = Customer(slack_user_id="U1")
        session.add(customer)
        await session.flush()
        case = Case(customer_id=customer.id, source="slack")  # type: ignore[arg-type]
        session.add(case)
        await session.flush()
        session.add_all([inbound(case.number, "slack"), inbound(case.number, "email")])
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            session.add(inbound(case.number, "slack"))

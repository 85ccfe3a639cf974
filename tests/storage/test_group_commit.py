"""Group commit: writes made together share a transaction, each caller hears its own result
once it is committed, and a failure stays with the writes it belongs to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.audit import audit
from storage.engine import SessionFactory
from storage.group_commit import GroupCommit
from storage.models import AuditEvent


class Counted:
    """`sessions`, counting the sessions opened."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self.opened = 0
        self.first = asyncio.Event()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        self.opened += 1
        self.first.set()
        async with self.sessions() as session:
            yield session


async def written(sessions: SessionFactory) -> list[str]:
    async with sessions() as session:
        stmt = select(AuditEvent.actor).order_by(col(AuditEvent.id))
        return list((await session.exec(stmt)).all())


def write(name: str, *, fail: bool = False):  # type: ignore[no-untyped-def]
    async def work(session: AsyncSession) -> str:
        audit(session, None, "test.written", name)
        await session.flush()
        if fail:
            raise ValueError(f"{name} failed")
        return name.upper()

    return work


async def test_writes_made_together_share_a_transaction(sessions: SessionFactory) -> None:
    counted = Counted(sessions)
    group = GroupCommit(counted, group=64)
    names = [f"w{n:02}" for n in range(50)]
    results = await asyncio.gather(*(group.run(write(name)) for name in names))
    assert results == [name.upper() for name in names]
    assert await written(sessions) == names  # in the order given
    assert counted.opened == 1


async def test_a_lone_write_goes_at_once_and_a_busy_line_groups(sessions: SessionFactory) -> None:
    counted = Counted(sessions)
    group = GroupCommit(counted)
    first = asyncio.create_task(group.run(write("first")))
    await counted.first.wait()  # in its transaction before anything else came
    later = [asyncio.create_task(group.run(write(f"w{n}"))) for n in range(20)]
    await asyncio.gather(first, *later)
    assert counted.opened == 2  # the twenty that came meanwhile share the next one


async def test_a_group_is_bounded(sessions: SessionFactory) -> None:
    counted = Counted(sessions)
    group = GroupCommit(counted, group=10)
    await asyncio.gather(*(group.run(write(f"w{n}")) for n in range(41)))
    assert counted.opened == 5  # 10 + 10 + 10 + 10 + 1
    assert len(await written(sessions)) == 41


async def test_a_caller_hears_its_result_only_once_committed(sessions: SessionFactory) -> None:
    group = GroupCommit(sessions)

    async def seen_by_another_session() -> list[str]:
        await group.run(write("mine"))
        return await written(sessions)

    first, seen, after = await asyncio.gather(
        group.run(write("first")), seen_by_another_session(), group.run(write("after"))
    )
    assert (first, seen, after) == ("FIRST", ["first", "mine", "after"], "AFTER")


async def test_a_write_that_fails_fails_alone_in_its_savepoint(sessions: SessionFactory) -> None:
    group = GroupCommit(sessions)
    outcomes = await asyncio.gather(
        group.run(write("a")),
        group.run(write("b")),
        group.run(write("bad", fail=True)),
        group.run(write("c")),
        return_exceptions=True,
    )
    assert outcomes[:2] == ["A", "B"] and outcomes[3] == "C"
    assert isinstance(outcomes[2], ValueError)
    assert await written(sessions) == ["a", "b", "c"]


async def test_a_transaction_that_fails_fails_its_writes_and_the_line_goes_on(
    sessions: SessionFactory,
) -> None:
    """The database unreachable for one transaction: each caller in it hears the error
    (nothing of it was written), and the next transaction writes again."""
    down = True

    @asynccontextmanager
    async def flaky() -> AsyncIterator[AsyncSession]:
        if down:
            raise ConnectionError("database unreachable")
        async with sessions() as session:
            yield session

    group = GroupCommit(flaky)
    outcomes = await asyncio.gather(
        group.run(write("b")), group.run(write("c")), return_exceptions=True
    )
    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes), outcomes
    down = False
    assert await group.run(write("later")) == "LATER"
    assert await written(sessions) == ["later"]


async def test_a_caller_that_gives_up_leaves_the_others(sessions: SessionFactory) -> None:
    group = GroupCommit(sessions)
    first = asyncio.create_task(group.run(write("first")))
    impatient = asyncio.create_task(group.run(write("impatient")))
    patient = asyncio.create_task(group.run(write("patient")))
    await asyncio.sleep(0)
    impatient.cancel()
    assert await first == "FIRST" and await patient == "PATIENT"
    with pytest.raises(asyncio.CancelledError):
        await impatient
    async with sessions() as session:  # written all the same: it was in line
        stmt = select(func.count()).select_from(AuditEvent)
        assert (await session.exec(stmt)).one() == 3

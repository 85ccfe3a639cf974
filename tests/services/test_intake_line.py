"""The intake line (group commit), as a pure unit: groups, per-customer order while a first
message is out being classified, and failures kept to the messages they belong to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.cases.intake_line import GROUP, IntakeLine, NeedsTriage
from services.triage.service import Triage
from services.types import InboundMessage, IngestResult
from tests.builders import slack_message

TRIAGED = Triage("card", "cards", 0.9, 0.1, "test", "local")


class Store:
    """A stand-in database: what each committed group stored, in order."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.classified: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.commit_waits: asyncio.Event | None = None  # the next commit waits, then fails
        self.pending: list[str] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        self.pending = []
        yield cast(AsyncSession, None)
        if self.commit_waits is not None:
            waits, self.commit_waits = self.commit_waits, None
            await waits.wait()
            raise OperationalError("COMMIT", {}, Exception("connection lost"))
        self.groups.append(self.pending)

    async def one(
        self, _session: AsyncSession, inbound: InboundMessage, triage: Triage | None
    ) -> IngestResult:
        """ "new …" messages open a case, so need triage; "bad" ones fail."""
        if inbound.body.startswith("new") and triage is None:
            raise NeedsTriage()
        if inbound.body == "bad":
            raise ValueError("no customer")
        self.pending.append(inbound.body)
        return cast(IngestResult, inbound.body)

    async def classify(self, text: str) -> Triage:
        await self.gate.wait()
        if text == "new but unclassifiable":
            raise RuntimeError("model failed")
        self.classified.append(text)
        return TRIAGED

    def stored(self) -> list[str]:
        return [body for group in self.groups for body in group]


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def line(store: Store) -> IntakeLine:
    return IntakeLine(store.transaction, store.one, store.classify)


def submit(line: IntakeLine, text: str, user: str) -> asyncio.Task[Any]:
    return asyncio.create_task(line.submit(slack_message(text, user)))


async def test_a_lone_message_is_a_group_of_one(line: IntakeLine, store: Store) -> None:
    assert cast(str, await line.submit(slack_message("hello"))) == "hello"
    assert store.groups == [["hello"]]


async def test_a_burst_goes_in_full_groups(line: IntakeLine, store: Store) -> None:
    texts = [f"question {n}" for n in range(2 * GROUP + 6)]
    results = await asyncio.gather(
        *(line.submit(slack_message(t, f"U{n}")) for n, t in enumerate(texts))
    )
    assert cast(list[str], results) == texts
    assert [len(group) for group in store.groups] == [GROUP, GROUP, 6]


async def test_a_customer_waits_behind_their_message_out_for_triage(
    line: IntakeLine, store: Store
) -> None:
    store.gate.clear()  # the classifier is slow
    first = submit(line, "new: my card is lost", "UA")
    second = submit(line, "and it was blocked", "UA")
    other = submit(line, "still waiting on my refund", "UB")
    assert await other == "still waiting on my refund"  # not held behind someone else
    third = submit(line, "hello?", "UA")  # sent while the first is being classified
    await asyncio.sleep(0.01)
    assert not first.done() and not second.done() and not third.done()

    store.gate.set()
    assert await asyncio.gather(first, second, third) == [
        "new: my card is lost",
        "and it was blocked",
        "hello?",
    ]
    assert store.stored() == [
        "still waiting on my refund",
        "new: my card is lost",
        "and it was blocked",
        "hello?",
    ]
    assert store.classified == ["new: my card is lost"]


async def test_one_bad_message_fails_alone(line: IntakeLine, store: Store) -> None:
    texts = ["one", "bad", "two"]
    results = await asyncio.gather(
        *(line.submit(slack_message(t, f"U{n}")) for n, t in enumerate(texts)),
        return_exceptions=True,
    )
    assert results[0] == "one" and results[2] == "two"
    assert isinstance(results[1], ValueError)
    assert store.groups == [["one", "two"]]


async def test_a_failed_classification_fails_that_message_only(
    line: IntakeLine, store: Store
) -> None:
    failing = submit(line, "new but unclassifiable", "UA")
    behind = submit(line, "are you there", "UA")
    with pytest.raises(RuntimeError, match="model failed"):
        await failing
    assert await behind == "are you there"


async def test_a_failed_commit_fails_its_group_and_frees_the_customers_it_held(
    line: IntakeLine, store: Store
) -> None:
    commit = store.commit_waits = asyncio.Event()
    first = submit(line, "new: my card is lost", "UA")  # set aside, then its group fails
    await asyncio.sleep(0.01)
    later = submit(line, "and it was blocked", "UA")  # held behind the first
    await asyncio.sleep(0.01)
    commit.set()
    with pytest.raises(OperationalError):
        await first
    assert await asyncio.wait_for(later, 5) == "and it was blocked"


async def test_a_failed_commit_spares_a_message_held_behind_an_earlier_group(
    store: Store,
) -> None:
    started = asyncio.Event()  # the first group's transaction waits at its start
    groups = 0

    async def begin(_session: AsyncSession, _opens: bool) -> None:
        nonlocal groups
        groups += 1
        if groups == 1:
            await started.wait()
        elif groups == 2:  # the second group's commit fails
            store.commit_waits = asyncio.Event()
            store.commit_waits.set()

    line = IntakeLine(store.transaction, store.one, store.classify, begin=begin)
    store.gate.clear()  # the first message stays out for triage
    first = submit(line, "new: my card is lost", "UA")
    await asyncio.sleep(0.01)
    behind = submit(line, "and it was blocked", "UA")  # in line before the first is set aside
    other = submit(line, "still waiting on my refund", "UB")
    await asyncio.sleep(0.01)
    started.set()
    with pytest.raises(OperationalError):
        await other  # stored in the second group, whose commit failed
    store.gate.set()  # `behind` only waited in that group, behind the first
    results = await asyncio.wait_for(asyncio.gather(first, behind), 5)
    assert results == ["new: my card is lost", "and it was blocked"]

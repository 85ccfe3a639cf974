"""`/queue next` and `POST /api/v1/queue/claim` hand out the highest-priority case, even when
that case is locked for a moment by something else (its card being recorded): the claim
waits for it instead of skipping to a case of lower priority. Two claims at once get two
different cases."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from services.cases import CaseService
from storage.engine import SessionFactory
from tests.builders import AGENT, slack_message


async def open_three(service: CaseService) -> None:
    for n in range(3):
        await service.intake.ingest(slack_message(f"Question {n}", user=f"U{n}", ts=f"{n}.0"))


async def test_a_briefly_locked_top_case_is_waited_for_not_skipped(
    backend: str, service: CaseService, sessions: SessionFactory
) -> None:
    if backend != "postgres":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises whole transactions")
    await open_three(service)
    locked, release = asyncio.Event(), asyncio.Event()

    async def hold_case_1() -> None:  # as a card being recorded holds its case
        async with sessions() as session, session.begin():
            await session.exec(text("SELECT id FROM cases WHERE id = 1 FOR UPDATE"))  # type: ignore[call-overload]
            locked.set()
            await release.wait()

    holder = asyncio.create_task(hold_case_1())
    await locked.wait()
    claim = asyncio.create_task(service.agents.claim_next(actor=AGENT))
    await asyncio.sleep(0.3)  # the claim is waiting on the lock, not done with another case
    assert not claim.done()
    release.set()
    await holder
    claimed = await claim
    assert claimed is not None and claimed.number == 1


async def test_two_claims_at_once_get_two_cases(service: CaseService) -> None:
    await open_three(service)
    first, second = await asyncio.gather(
        service.agents.claim_next(actor=AGENT), service.agents.claim_next(actor=AGENT)
    )
    assert first is not None and second is not None
    assert sorted([first.number, second.number]) == [1, 2]

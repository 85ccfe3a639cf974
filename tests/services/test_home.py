"""App Home's numbers, read from a real database with a settable clock: an agent's cases,
the unassigned queue, SLAs due soon (and breached), and today's counts and median first
response (the UTC day)."""

from __future__ import annotations

from datetime import timedelta

from services.cases import CaseService
from services.home import Dashboard, median
from services.types import Actor
from storage.engine import SessionFactory
from storage.models import Case
from tests.builders import AGENT, slack_message
from tests.conftest import Clock

OTHER_AGENT = Actor(id="UOTHER", name="otto", is_agent=True)


_replies = iter(range(1, 1_000))


async def reply(service: CaseService, number: int, agent: Actor, text: str) -> None:
    await service.agents.message(
        case_id=number, actor=agent, text=text, source="slack", external_id=f"S:{next(_replies)}"
    )


async def set_sla(sessions: SessionFactory, number: int, due_in: timedelta, clock: Clock) -> None:
    async with sessions() as session:
        case = await session.get(Case, number)
        assert case is not None
        case.sla_due_at = clock.now + due_in
        session.add(case)
        await session.commit()


async def test_agent_home_reads_their_cases_the_queue_slas_and_today(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    yesterday_case = (await service.intake.ingest(slack_message("old question", user="U1"))).case
    await reply(service, yesterday_case.number, AGENT, "answered yesterday")
    clock.advance(hours=16)  # 2026-11-24 01:00 UTC: a new UTC day
    for user in ("U2", "U3", "U4", "U5"):
        await service.intake.ingest(slack_message(f"question from {user}", user=user))
    await service.agents.claim(case_id=2, actor=AGENT)
    await service.agents.claim(case_id=3, actor=OTHER_AGENT)
    await set_sla(sessions, 4, timedelta(hours=1), clock)  # due soon
    await set_sla(sessions, 5, timedelta(hours=9), clock)  # not soon
    await set_sla(sessions, 1, -timedelta(hours=2), clock)  # breached, but answered: not listed
    clock.advance(minutes=10)
    await reply(service, 2, AGENT, "on it")  # first answer after 10 min
    clock.advance(minutes=20)
    await reply(service, 3, OTHER_AGENT, "looking")  # after 30 min
    await reply(service, 2, AGENT, "still on it")  # not a first answer
    await service.agents.resolve(case_id=3, actor=OTHER_AGENT)
    await reply(service, 1, AGENT, "a second answer today to yesterday's case")

    home = await Dashboard(sessions, clock=clock).agent_home(AGENT.id)

    assert [c.number for c in home.mine] == [2]
    assert [c.number for c in home.queue] == [1, 4, 5]  # unassigned, by SLA due time
    assert [c.number for c in home.due_soon] == [4]
    assert home.today.opened == 4
    assert home.today.resolved == 1
    assert home.today.median_first_response == timedelta(minutes=20)  # of 10 and 30


async def test_a_quiet_day_has_no_median(service: CaseService, sessions: SessionFactory) -> None:
    home = await Dashboard(sessions).agent_home(AGENT.id)
    assert (home.mine, home.queue, home.due_soon) == ([], [], [])
    assert home.today.median_first_response is None
    assert median([timedelta(seconds=s) for s in (1, 2, 30)]) == timedelta(seconds=2)

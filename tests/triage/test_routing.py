"""Routing: least-loaded agent with the skills, capacity respected, the queue's order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import agents_file
from bot.settings import ConfigError, Settings
from services.cases import CaseService
from services.routing import AgentDirectory, AgentsError, choose
from services.rules import RulesConfig
from services.triage.catalog import Catalog
from services.triage.service import Triager
from storage.engine import SessionFactory
from storage.models import Agent, CaseStatus
from tests.builders import AGENT, slack_message
from tests.conftest import Clock


def agent(user_id: str, skills: list[str], capacity: int = 10, active: bool = True) -> Agent:
    return Agent(user_id=user_id, skills=skills, capacity=capacity, active=active)


def test_the_least_loaded_agent_with_every_skill_and_room_gets_it() -> None:
    team = [
        agent("UA", ["payments"], capacity=2),
        agent("UB", ["payments", "fraud"]),
        agent("UC", ["payments", "fraud"]),
        agent("UD", ["payments", "fraud"], active=False),
    ]
    assert choose(team, {"UB": 3, "UC": 1}, ["payments", "fraud"]) == "UC"
    assert choose(team, {"UB": 1, "UC": 1}, ["Payments"]) == "UA"  # least loaded, names canonical
    assert choose(team, {"UA": 2, "UB": 0, "UC": 0}, ["payments"]) == "UB"  # UA is full; tie by id
    assert choose(team, {}, ["legal"]) is None
    assert choose([], {}, []) is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["UA", "UB", "UC", "UD"]),
            st.sets(st.sampled_from(["payments", "fraud", "cards"])),
            st.integers(0, 5),
            st.booleans(),
        ),
        max_size=4,
        unique_by=lambda t: t[0],
    ),
    st.dictionaries(st.sampled_from(["UA", "UB", "UC", "UD"]), st.integers(0, 6)),
    st.sets(st.sampled_from(["payments", "fraud", "cards"]), max_size=2),
)
def test_whoever_is_chosen_qualifies_and_nobody_qualifying_has_less(
    specs: list[tuple[str, set[str], int, bool]], loads: dict[str, int], skills: set[str]
) -> None:
    team = [agent(u, sorted(s), c, a) for u, s, c, a in specs]
    chosen = choose(team, loads, sorted(skills))
    qualifying = [
        a
        for a in team
        if a.active and skills <= set(a.skills) and loads.get(a.user_id, 0) < a.capacity
    ]
    if chosen is None:
        assert qualifying == []
    else:
        assert chosen in {a.user_id for a in qualifying}
        assert loads.get(chosen, 0) == min(loads.get(a.user_id, 0) for a in qualifying)


@pytest.fixture
async def cases(
    sessions: SessionFactory, clock: Clock, rules: RulesConfig, catalog: Catalog
) -> CaseService:
    triager = Triager(catalog, urgent_keywords=rules.urgent_keywords)
    await triager.start()
    return CaseService(sessions, rules=rules, clock=clock, triage=triager)


async def test_new_cases_are_routed_by_skill_and_capacity(
    cases: CaseService, sessions: SessionFactory, catalog: Catalog
) -> None:
    directory = AgentDirectory(sessions, catalog)
    await directory.save("UPAY", skills=["payments"], capacity=1)
    await directory.save("UCARD", skills=["cards"], capacity=5)

    first = (
        await cases.intake.ingest(slack_message("I was charged twice for my order", user="U1"))
    ).case
    second = (
        await cases.intake.ingest(slack_message("Charged twice again for lunch", user="U2"))
    ).case
    stolen = (await cases.intake.ingest(slack_message("Someone stole my card", user="U3"))).case
    legal = (await cases.intake.ingest(slack_message("My lawyer will contact you", user="U4"))).case
    assert (first.assignee, first.status) == ("UPAY", CaseStatus.ASSIGNED)
    assert (second.assignee, second.status) == (None, CaseStatus.OPEN)  # UPAY is at capacity
    assert stolen.assignee == "UCARD"
    assert legal.assignee is None  # nobody has the legal skill
    assert [(a.user_id, load) for a, load in await directory.listing()] == [
        ("UCARD", 1),
        ("UPAY", 1),
    ]
    await directory.remove("UCARD")
    later = (await cases.intake.ingest(slack_message("my wallet was stolen", user="U5"))).case
    assert later.assignee is None


async def test_skills_must_come_from_the_catalog(
    sessions: SessionFactory, catalog: Catalog, tmp_path: Path
) -> None:
    directory = AgentDirectory(sessions, catalog)
    with pytest.raises(AgentsError, match="unknown skill"):
        await directory.save("UX", skills=["juggling"])
    with pytest.raises(AgentsError, match="capacity"):
        await directory.save("UX", skills=["payments"], capacity=-1)
    bad = tmp_path / "agents.yml"
    bad.write_text("agents:\n  - id: not-a-user\n    skills: [payments]\n")
    settings = Settings(_env_file=None, agents_path=bad)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"^AGENTS_PATH: .*agents\.0\.id"):
        agents_file(settings)


async def test_queue_next_takes_escalated_then_urgent_then_soonest_sla(
    cases: CaseService, clock: Clock
) -> None:
    general = (
        await cases.intake.ingest(slack_message("Which currencies do you support?", user="U1"))
    ).case
    outage = (await cases.intake.ingest(slack_message("Your whole API is down", user="U2"))).case
    stolen = (await cases.intake.ingest(slack_message("my card was stolen", user="U3"))).case
    clock.advance(minutes=1)
    urgent = (
        await cases.intake.ingest(slack_message("URGENT fraud, payments I never made", user="U4"))
    ).case
    assert urgent.escalation_level > 0
    assert outage.sla_due_at is not None and stolen.sla_due_at is not None
    assert outage.sla_due_at < stolen.sla_due_at  # 30 minutes against an hour
    order = [(await cases.agents.claim_next(actor=AGENT)) for _ in range(4)]
    assert [c.number for c in order if c] == [
        urgent.number,  # escalated
        outage.number,  # same urgency as the stolen card (priority 5), sooner SLA
        stolen.number,
        general.number,
    ]
    assert general.sla_due_at == general.created_at + timedelta(days=2)

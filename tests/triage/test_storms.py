"""Storm folding: 200 near-identical reports become one master incident with one alert;
50 unrelated messages in the same minutes stay separate (issue #4)."""

from __future__ import annotations

import random
from math import cos, sin

import numpy as np
import pytest
from sqlmodel import col, select

from services.cases import CaseService
from services.outbox import OutboxKind
from services.rules import RulesConfig
from services.storms import StormConfig, most_similar
from services.triage.catalog import Catalog
from services.triage.learning import to_bytes
from services.triage.service import Triager
from storage.engine import SessionFactory
from storage.models import Case, CaseStatus, OutboxItem
from tests.builders import AGENT, UNRELATED, slack_message
from tests.conftest import Clock

GREETINGS = ["", "Hi, ", "Hello! ", "Hey team, ", "Good morning. "]
ENDINGS = ["", " Please help.", " Any news?", " Thanks.", " This is the third time today."]


def storm_message(rng: random.Random) -> str:
    return (
        f"{rng.choice(GREETINGS)}the mobile app is down and I cannot log in"
        f"{rng.choice(ENDINGS)} (ref {rng.randrange(10_000, 99_999)})"
    )


@pytest.fixture
async def cases(
    sessions: SessionFactory, clock: Clock, rules: RulesConfig, catalog: Catalog
) -> CaseService:
    triager = Triager(catalog, urgent_keywords=())
    await triager.start()
    return CaseService(
        sessions, rules=rules, clock=clock, triage=triager, storms=StormConfig(threshold=10)
    )


async def outbox(sessions: SessionFactory, kind: OutboxKind) -> list[OutboxItem]:
    async with sessions() as session:
        rows = await session.exec(select(OutboxItem).where(OutboxItem.kind == kind.value))
        return list(rows.all())


@pytest.mark.slow
def _unit(angle: float) -> np.ndarray:
    """A unit vector at `angle` in the first plane: cosine similarity is cos of the gap."""
    vector = np.zeros(384, dtype=np.float32)
    vector[0], vector[1] = cos(angle), sin(angle)
    return vector


async def masters_and_children(sessions: SessionFactory) -> tuple[list[Case], list[Case]]:
    async with sessions() as session:
        masters = (await session.exec(select(Case).where(col(Case.is_master).is_(True)))).all()
        children = (await session.exec(select(Case).where(col(Case.master_id).is_not(None)))).all()
    return list(masters), list(children)


async def test_two_hundred_reports_fold_into_one_master_and_fifty_others_stay_apart(
    cases: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    rng = random.Random(4)
    messages = [(f"US{n}", storm_message(rng)) for n in range(200)]
    messages += [(f"UU{n}", text) for n, text in enumerate(UNRELATED)]
    rng.shuffle(messages)
    for user, text in messages:
        await cases.intake.ingest(slack_message(text, user=user))
        clock.advance(seconds=2)  # 250 messages in about 8 minutes

    async with sessions() as session:
        all_cases = list((await session.exec(select(Case).order_by(col(Case.id)))).all())
    masters = [c for c in all_cases if c.is_master]
    assert len(masters) == 1
    master = masters[0]
    children = [c for c in all_cases if c.master_id == master.number]
    assert len(children) == 200
    assert {c.subject for c in children} == {
        text for user, text in messages if user.startswith("US")
    }
    separate = [c for c in all_cases if not c.is_master and c.master_id is None]
    assert len(separate) == 50
    alerts = await outbox(sessions, OutboxKind.ESCALATION_ALERT)
    assert [(a.case_id, a.payload["reason"]) for a in alerts] == [(master.number, "storm")]
    cards = {item.case_id for item in await outbox(sessions, OutboxKind.CASE_CARD)}
    # Only the cases before the storm was recognised ever had a card (now collapsed).
    assert len(cards & {c.number for c in children}) <= 10


async def test_resolving_the_master_resolves_and_notifies_every_child(
    cases: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    rng = random.Random(7)
    for n in range(12):
        await cases.intake.ingest(slack_message(storm_message(rng), user=f"US{n}"))
        clock.advance(seconds=5)
    async with sessions() as session:
        master = (await session.exec(select(Case).where(col(Case.is_master).is_(True)))).one()
    reply = await cases.agents.message(
        case_id=master.number, actor=AGENT, text="We are on it", source="slack", external_id="A:1"
    )
    assert not reply.internal
    await cases.agents.resolve(case_id=master.number, actor=AGENT)
    async with sessions() as session:
        children = list(
            (await session.exec(select(Case).where(Case.master_id == master.number))).all()
        )
    assert len(children) == 12
    assert all(c.status == CaseStatus.RESOLVED for c in children)
    notices = await outbox(sessions, OutboxKind.CUSTOMER_RESOLVED)
    assert sorted(n.case_id for n in notices) == sorted(c.number for c in children)
    replies = await outbox(sessions, OutboxKind.CUSTOMER_REPLY)
    assert sorted(r.case_id for r in replies) == sorted(c.number for c in children)


async def test_a_few_similar_cases_are_linked_not_folded(
    cases: CaseService, sessions: SessionFactory
) -> None:
    rng = random.Random(1)
    for n in range(3):
        await cases.intake.ingest(slack_message(storm_message(rng), user=f"US{n}"))
    async with sessions() as session:
        found = list((await session.exec(select(Case).order_by(col(Case.id)))).all())
    assert [c.duplicate_of for c in found][:2] == [None, 1]
    assert found[2].duplicate_of in (1, 2)  # the most similar earlier case
    assert not any(c.is_master or c.master_id for c in found)


def test_most_similar_orders_and_filters() -> None:
    a, b, _ = np.eye(3, dtype=np.float32)
    mixed = (a + b) / np.linalg.norm(a + b)
    assert most_similar(a, [(1, b), (2, mixed), (3, a)], 0.5) == [
        (3, 1.0),
        (2, pytest.approx(0.7071, abs=1e-4)),
    ]
    assert most_similar(a, [], 0.5) == []
    stored = [(1, to_bytes(b)), (2, to_bytes(mixed)), (3, to_bytes(a))]  # as read from the db
    assert most_similar(a, stored, 0.5) == most_similar(a, [(1, b), (2, mixed), (3, a)], 0.5)


async def test_a_storm_that_drifts_away_from_its_first_report_stays_one_storm(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    """Each report is close to the one before, the last far from the first (other order
    numbers, other words): they still make one storm, not a second master."""
    from services.storms import place

    config = StormConfig(threshold=3, window_minutes=30, similarity=0.8)

    angles = [0.05 * n for n in range(4)] + [0.15 + 0.15 * n for n in range(1, 13)]
    for n, angle in enumerate(angles):
        case = (await service.intake.ingest(slack_message(f"report {n}", user=f"UD{n}"))).case
        async with sessions() as session, session.begin():
            loaded = await session.get(Case, case.number)
            assert loaded is not None
            await place(session, loaded, _unit(angle), clock(), config)
        clock.advance(seconds=5)
    assert cos(angles[-1] - angles[3]) < 0.8, "the last report is unlike the master's"
    masters, children = await masters_and_children(sessions)
    assert len(masters) == 1
    assert len(children) == len(angles)


async def test_a_drifting_storm_placed_in_one_transaction_stays_one_storm(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    """The intake line places a whole group of new cases in one transaction, which reads the
    storms once: the cases folded and joined meanwhile are compared with as if re-read."""
    from services.storms import place

    config = StormConfig(threshold=3, window_minutes=30, similarity=0.8)
    angles = [0.05 * n for n in range(4)] + [0.15 + 0.15 * n for n in range(1, 13)]
    numbers = [
        (await service.intake.ingest(slack_message(f"report {n}", user=f"UT{n}"))).case.number
        for n in range(len(angles))
    ]
    async with sessions() as session, session.begin():
        for number, angle in zip(numbers, angles, strict=True):
            loaded = await session.get(Case, number)
            assert loaded is not None
            await place(session, loaded, _unit(angle), clock(), config)
            clock.advance(seconds=1)
    assert cos(angles[-1] - angles[3]) < 0.8, "the last report is unlike the master's"
    masters, children = await masters_and_children(sessions)
    assert len(masters) == 1
    assert {c.number for c in children} == set(numbers)


async def test_a_master_raised_in_a_rolled_back_savepoint_is_not_joined_later(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    """A message whose savepoint fails after its case raised a master takes the master with
    it; the transaction's next case must not join a master that is not there."""
    from services.storms import forget_storms, place

    config = StormConfig(threshold=2, window_minutes=30, similarity=0.8)
    numbers = [
        (await service.intake.ingest(slack_message(f"report {n}", user=f"UR{n}"))).case.number
        for n in range(4)
    ]
    async with sessions() as session, session.begin():
        for number in numbers[:2]:
            first = await session.get(Case, number)
            assert first is not None
            await place(session, first, _unit(0.01 * number), clock(), config)
        third = await session.get(Case, numbers[2])
        assert third is not None
        try:
            async with session.begin_nested():
                placed = await place(session, third, _unit(0.0), clock(), config)
                assert placed.created_master
                raise RuntimeError("the message failed after its case was placed")
        except RuntimeError:
            forget_storms(session)  # as the case service does when a savepoint fails
        fourth = await session.get(Case, numbers[3])
        assert fourth is not None
        placed = await place(session, fourth, _unit(0.02), clock(), config)
        assert placed.created_master and placed.master is not None
        master = placed.master.number
    masters, children = await masters_and_children(sessions)
    assert [m.number for m in masters] == [master]
    assert all(c.master_id == master for c in children)

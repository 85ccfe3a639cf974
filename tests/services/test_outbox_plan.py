"""The dispatcher's delivery plan for one key's rows (pure; property-based)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.outbox.plan import MERGE_MAX_ITEMS, plan
from storage.models import OutboxItem

KINDS = ("case.card", "case.thread", "alert.escalation", "case.attachment", "report.email")


def rows(kinds: list[str]) -> list[OutboxItem]:
    return [
        OutboxItem(id=n + 1, kind=kind, ordering_key="case:1", payload={"text": f"m{n}"})
        for n, kind in enumerate(kinds)
    ]


@given(st.lists(st.sampled_from(KINDS), max_size=60))
def test_every_row_once_and_everything_but_card_renders_in_order(kinds: list[str]) -> None:
    group = rows(kinds)
    steps = plan(group)
    covered = [row.id for step in steps for row in step.rows]
    assert sorted(covered) == [row.id for row in group], "each row in exactly one step"
    others = [row.id for step in steps for row in step.rows if row.kind != "case.card"]
    assert others == [row.id for row in group if row.kind != "case.card"], "order kept"
    for step in steps:
        assert {row.kind for row in step.rows} == {step.item.kind}, "kinds never merge together"
        if step.item.kind in ("case.thread", "report.email"):
            assert len(step.rows) <= MERGE_MAX_ITEMS
            batch = step.item.payload.get("batch") or [step.item.payload]
            assert batch == [row.payload for row in step.rows]


@given(st.lists(st.sampled_from(KINDS), max_size=60))
def test_the_first_card_goes_first_and_the_newest_render_last(kinds: list[str]) -> None:
    group = rows(kinds)
    cards = [row for row in group if row.kind == "case.card"]
    steps = plan(group)
    delivered = [step.item for step in steps]
    rendered = [item for item in delivered if item.kind == "case.card"]
    if not cards:
        assert rendered == []
        return
    assert rendered[0] is cards[0], "the first render (maybe the card's post) keeps its place"
    first = delivered.index(cards[0])
    before = [row.id or 0 for step in steps[:first] for row in step.rows]
    assert all(n < (cards[0].id or 0) for n in before), "nothing moves ahead of the first card"
    if len(cards) > 1:
        assert rendered == [cards[0], cards[-1]] and delivered[-1] is cards[-1]

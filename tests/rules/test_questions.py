"""An agent's message that asks the customer something (worth one nudge when unanswered)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.rules import asks_a_question


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("Which card is it?", True),
        ("Thanks. Could you send the order number? Then we refund.", True),
        ("We sent a new card.", False),
        ("Track it at https://example.com/track?id=7 and www.x.com/?q=1", False),
        ("> Why is this taking so long?\nWe are on it.", False),
        ("See https://example.com/?a=1\nDid it arrive?", True),
        ("", False),
    ],
)
def test_a_question_is_a_question_mark_outside_links_and_quotes(text: str, asks: bool) -> None:
    assert asks_a_question(text) is asks


@given(st.text(alphabet=st.characters(blacklist_characters="?")))
def test_no_question_mark_no_question(text: str) -> None:
    assert not asks_a_question(text)

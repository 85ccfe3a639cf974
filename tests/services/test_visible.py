"""Names and titles lose what would hide or reverse text, whatever the input."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from services.visible import visible


def test_reversing_and_invisible_characters_go_lines_join() -> None:
    assert visible("Invoice \u202efdp.exe") == "Invoice fdp.exe"
    assert visible("a\u200bb\u200dc\ufeff\u2066d\u2069") == "abcd"
    assert visible("two\nlines\r\n\u2028three\x07") == "two lines three"
    assert visible("Zoë Ægir 山田") == "Zoë Ægir 山田"


@given(st.text())
def test_nothing_invisible_or_controlling_survives(text: str) -> None:
    shown = visible(text)
    assert not [c for c in shown if unicodedata.category(c) in ("Cf", "Cc")]
    assert "\n" not in shown and shown == shown.strip()

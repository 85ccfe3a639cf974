"""What the OpenAPI document allows is what the API accepts: text rules and cursors.

The fuzz test (tests/e2e/test_api_fuzz.py) finds a disagreement over HTTP; these pin the
rules themselves, fast, on any text.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from handlers.api.cursors import CURSOR_BYTES, decode_cursor, encode_cursor
from handlers.api.models import (
    CURSOR_PATTERN,
    FILLED_PATTERN,
    MESSAGE_ID_CHARS,
    NO_NUL_PATTERN,
    CaseCreate,
    Page,
)

VALID = {"customer_id": "c-1", "channel": "web", "message": "hello"}
# Mostly the characters the rules are about: NUL, every kind of space, letters.
TEXT = st.text(st.sampled_from("\x00 \t\n\x1c\x85\xa0\u2028\u3000\ufeffa\u00e9\U0001f4a5"))


def accepted(**fields: object) -> bool:
    try:
        CaseCreate.model_validate(VALID | fields)
    except ValidationError:
        return False
    return True


@given(st.one_of(TEXT, st.text(max_size=30)))
def test_the_published_text_patterns_are_what_case_create_accepts(text: str) -> None:
    filled = re.fullmatch(FILLED_PATTERN, text) is not None
    storable = re.fullmatch(NO_NUL_PATTERN, text) is not None
    assert accepted(message=text) == (filled and len(text) >= 1)
    assert accepted(customer_id=text) == (filled and 1 <= len(text) <= 32)
    assert accepted(subject=text) == storable
    assert accepted(message_id=text) == (storable and 1 <= len(text) <= MESSAGE_ID_CHARS)


@given(st.integers(min_value=0, max_value=2 ** (8 * CURSOR_BYTES) - 1))
def test_a_cursor_matches_the_pattern_and_gives_its_offset_back(offset: int) -> None:
    cursor = encode_cursor(offset)
    assert re.fullmatch(CURSOR_PATTERN, cursor)
    assert decode_cursor(Page(cursor=cursor).cursor) == offset


@given(st.from_regex(CURSOR_PATTERN, fullmatch=True))
def test_every_string_the_cursor_pattern_allows_is_a_cursor(cursor: str) -> None:
    assert encode_cursor(decode_cursor(Page(cursor=cursor).cursor)) == cursor

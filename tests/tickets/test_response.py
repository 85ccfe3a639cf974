"""Reading the ticket system's answer: an id, or one clear reason; never anything else."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.tickets.response import TicketAnswerError, preview, ticket_id_from


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (201, b'{"id": "EXT-42"}', "EXT-42"),
        (200, b'{"ticket_id": "INC0012"}', "INC0012"),
        (200, b'{"id": 42}', "42"),
        (200, b'{"ticket_id": "T-1", "id": "ignored"}', "T-1"),
        (202, b'{"id": "  padded  ", "status": "accepted"}', "padded"),
    ],
)
def test_an_id_or_a_ticket_id_is_read(status: int, body: bytes, expected: str) -> None:
    assert ticket_id_from(status, body) == expected


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (500, b"upstream down", "HTTP 500: 'upstream down'"),
        (400, b'{"error": "missing field"}', "HTTP 400"),
        (200, b"<html>ok</html>", "no JSON"),
        (200, b'["EXT-1"]', "no JSON object"),
        (200, b'{"ticket": "EXT-1"}', "no ticket_id or id"),
        (200, b'{"id": null}', "not a string or an integer"),
        (200, b'{"id": true}', "not a string or an integer"),
        (200, b'{"id": 4.2}', "not a string or an integer"),
        (200, b'{"id": "   "}', "printable"),
        (200, b'{"id": "a\\nb"}', "printable"),
        (200, json.dumps({"id": "x" * 101}).encode(), "printable"),
        (200, b"\xff\xfe", "no JSON"),
    ],
)
def test_anything_else_is_a_clear_error(status: int, body: bytes, reason: str) -> None:
    with pytest.raises(TicketAnswerError, match=reason.replace("(", r"\(")):
        ticket_id_from(status, body)


def test_the_preview_of_a_long_body_is_one_clipped_line() -> None:
    text = preview(b"line one\nline two " + b"x" * 1000)
    assert text.startswith("line one line two") and len(text) == 200 and "\n" not in text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["id", "ticket_id", "x"]) | st.text(), children)
    ),
    max_leaves=10,
)


@given(st.integers(min_value=100, max_value=599), st.binary(max_size=300))
def test_any_bytes_give_an_id_or_an_error(status: int, body: bytes) -> None:
    try:
        found = ticket_id_from(status, body)
    except TicketAnswerError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert 1 <= len(found) <= 100 and found.isprintable()


@given(st.integers(min_value=200, max_value=299), json_values)
def test_any_json_gives_an_id_or_an_error(status: int, value: object) -> None:
    body = json.dumps(value).encode()
    try:
        found = ticket_id_from(status, body)
    except TicketAnswerError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert isinstance(value, dict)
        raw = value.get("ticket_id", value.get("id"))
        assert found == (raw.strip() if isinstance(raw, str) else str(raw))

"""A help desk's request as an ingested message: dotted paths, and whatever JSON arrives."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.helpdesk.config import FieldMap
from handlers.helpdesk.mapping import Unusable, inbound, pick

FIELDS = FieldMap(
    id="id", text="body", subject="title", email="from.email", name="from.name", customer_id="cid"
)


def test_pick_follows_dotted_paths_through_objects_and_lists() -> None:
    data = {"a": {"b": [{"c": 1}, {"c": 2}]}}
    assert pick(data, "a.b.1.c") == 2
    assert pick(data, "a.b.9.c") is None
    assert pick(data, "a.x") is None
    assert pick(data, "") == data


def test_a_request_becomes_a_message_without_an_acknowledgement() -> None:
    message = inbound(
        {"id": 7, "body": " Hello\x00 ", "title": "Hi", "from": {"email": "a@b.c", "name": "A"}},
        FIELDS,
    )
    assert (message.external_id, message.body, message.subject) == ("helpdesk:7", "Hello", "Hi")
    assert (message.customer.email, message.customer.name) == ("a@b.c", "A")
    assert message.allow_auto_reply is False


@pytest.mark.parametrize(
    ("item", "why"),
    [
        ([1, 2], "not a JSON object"),
        ({"body": "x", "cid": "1"}, "no usable id"),
        ({"id": 1, "cid": "1"}, "no text"),
        ({"id": 1, "body": {"nested": "x"}, "cid": "1"}, "no text"),
        ({"id": 1, "body": "x", "from": {"email": "not-an-address"}}, "no customer"),
    ],
)
def test_unusable_requests_say_why(item: Any, why: str) -> None:
    with pytest.raises(Unusable, match=why):
        inbound(item, FIELDS)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(
    st.dictionaries(
        st.sampled_from(["id", "body", "title", "from", "cid"]) | st.text(max_size=4), JSON
    )
)
def test_any_json_is_a_message_or_unusable_never_a_crash(item: dict[str, Any]) -> None:
    try:
        message = inbound(item, FIELDS)
    except Unusable:
        return
    assert message.body and message.external_id.startswith("helpdesk:")
    assert "\x00" not in message.body

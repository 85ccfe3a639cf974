"""The webhook body → InboundMessage: what is taken, and the field and reason of each refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.webhook.inbound import InvalidField, parse_message, replay_id
from services.types import CustomerIdentity

TS = "1800000000"


def body(**fields: Any) -> bytes:
    data: dict[str, Any] = {"customer_id": "+15550001", "channel": "sms", "message": "Hello"}
    data.update(fields)
    return json.dumps({k: v for k, v in data.items() if v is not ...}).encode()


def test_a_valid_body_becomes_a_webhook_message_keyed_by_its_replay_id() -> None:
    raw = body()
    inbound = parse_message(raw, TS)

    assert inbound.source == "webhook"
    assert inbound.external_id == replay_id(TS, raw) and len(inbound.external_id) == 64
    assert inbound.customer == CustomerIdentity(name="+15550001", phone="+15550001")
    assert inbound.origin_channel == "sms" and inbound.body == "Hello"
    assert replay_id("1800000001", raw) != inbound.external_id, "a new request, a new id"


def test_the_providers_message_id_is_the_external_id_when_given() -> None:
    assert parse_message(body(message_id="SM123"), TS).external_id == "sms:+15550001:SM123"
    other_sender = parse_message(body(message_id="SM123", customer_id="+15550002"), TS)
    assert other_sender.external_id != "sms:+15550001:SM123", "ids are per provider and sender"
    assert parse_message(body(message_id=None), TS).external_id == replay_id(
        TS, body(message_id=None)
    )


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        (b"{not json", "body", "JSON"),
        (b"\xff\xfe{}", "body", "JSON"),
        (b"[1, 2]", "body", "object"),
        (body(customer_id=...), "customer_id", "required"),
        (body(customer_id=""), "customer_id", "empty"),
        (body(customer_id="   "), "customer_id", "empty"),
        (body(customer_id=15550001), "customer_id", "string"),
        (body(customer_id="+" + "1" * 32), "customer_id", "32"),
        (body(message=...), "message", "required"),
        (body(message="\n "), "message", "empty"),
        (body(message="x" * 20_001), "message", "20000"),
        (body(message="a\x00b"), "message", "NUL"),
        (body(message="\ud800"), "message", "surrogate"),
        (body(channel=...), "channel", "token"),
        (body(channel="SMS"), "channel", "token"),
        (body(channel="s m s"), "channel", "token"),
        (body(channel="x" * 17), "channel", "token"),
        (body(channel=["sms"]), "channel", "token"),
        (body(message_id=""), "message_id", "empty"),
        (body(message_id="m" * 201), "message_id", "200"),
        (body(message_id=7), "message_id", "string"),
    ],
)
def test_refusals_name_the_field_and_the_reason(raw: bytes, field: str, reason: str) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_message(raw, TS)
    assert refused.value.field == field and reason in refused.value.reason


def test_limits_are_inclusive() -> None:
    inbound = parse_message(
        body(customer_id="1" * 32, message="x" * 20_000, channel="w" * 16, message_id="m" * 200),
        TS,
    )
    assert inbound.customer.phone == "1" * 32 and len(inbound.body) == 20_000

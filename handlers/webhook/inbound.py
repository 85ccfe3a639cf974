"""A provider's request body → InboundMessage, with a field and a reason for every refusal.

No aiohttp here: the route reads and verifies the request, this only judges the JSON.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from services.types import Channel, CustomerIdentity, InboundMessage

CUSTOMER_ID_CHARS = 32  # it is the customer's phone identity (customers.phone)
MESSAGE_CHARS = 20_000
MESSAGE_ID_CHARS = 200
_CHANNEL = re.compile(r"[a-z0-9_-]{1,16}")


class InvalidField(Exception):
    """The body cannot be taken as it is (422): which field, and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def replay_id(timestamp: str, body: bytes) -> str:
    """The message's id when the provider sends none: a replayed request maps to the same id."""
    return hashlib.sha256(f"{timestamp}.".encode() + body).hexdigest()


def _optional(data: dict[str, Any], field: str, limit: int) -> str | None:
    """The field's text, None when absent (or null); refused when empty, too long or unsafe."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(field, "must be a string")
    if not value.strip():
        raise InvalidField(field, "must not be empty")
    if len(value) > limit:
        raise InvalidField(field, f"longer than {limit} characters")
    if "\x00" in value:
        raise InvalidField(field, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidField(field, "contains an unpaired surrogate") from None
    return value


def _required(data: dict[str, Any], field: str, limit: int) -> str:
    value = _optional(data, field, limit)
    if value is None:
        raise InvalidField(field, "required")
    return value


def parse_message(body: bytes, timestamp: str) -> InboundMessage:
    """Validate `{customer_id, channel, message[, message_id]}`; raises InvalidField."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: [[[[… too deep
        raise InvalidField("body", "not valid UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise InvalidField("body", "must be a JSON object")
    customer_id = _required(data, "customer_id", CUSTOMER_ID_CHARS).strip()
    channel = data.get("channel")
    if not isinstance(channel, str) or not _CHANNEL.fullmatch(channel):
        raise InvalidField(
            "channel", "required: a short token such as sms or whatsapp ([a-z0-9_-]{1,16})"
        )
    message = _required(data, "message", MESSAGE_CHARS)
    message_id = _optional(data, "message_id", MESSAGE_ID_CHARS)
    return InboundMessage(
        source=Channel.WEBHOOK,
        # A provider's id is unique per provider and sender, not across them.
        external_id=(
            f"{channel}:{customer_id}:{message_id}"
            if message_id is not None
            else replay_id(timestamp, body)
        ),
        body=message,
        customer=CustomerIdentity(name=customer_id, phone=customer_id),
        origin_channel=channel,
    )

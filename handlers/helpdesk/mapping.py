"""A help-desk request (one JSON object) as the message Casebot ingests: pure functions."""

from __future__ import annotations

from typing import Any

from handlers.helpdesk.config import FieldMap
from services.types import Channel, CustomerIdentity, InboundMessage

SOURCE_PREFIX = "helpdesk:"
NAME_CHARS, SUBJECT_CHARS, ID_CHARS = 200, 200, 200


class Unusable(ValueError):
    """A request that cannot become a case; the message says which field."""


def pick(data: Any, path: str) -> Any:
    """The value at a dotted path (`requester.email`, `items.0.id`), or None."""
    value = data
    for part in path.split(".") if path else []:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _text(item: dict[str, Any], path: str | None, limit: int | None = None) -> str | None:
    if path is None:
        return None
    value = pick(item, path)
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).replace("\x00", "").strip()
    return (text[:limit] if limit else text) or None


def inbound(item: Any, fields: FieldMap) -> InboundMessage:
    """The message for one request; Unusable when it has no id, no text or no customer."""
    if not isinstance(item, dict):
        raise Unusable("not a JSON object")
    source_id = _text(item, fields.id)
    if source_id is None or len(source_id) > ID_CHARS:
        raise Unusable(f"no usable id at {fields.id!r}")
    text = _text(item, fields.text)
    if text is None:
        raise Unusable(f"request {source_id}: no text at {fields.text!r}")
    email = _text(item, fields.email)
    if email is not None and "@" not in email:
        email = None
    customer_id = _text(item, fields.customer_id, 32)
    if email is None and customer_id is None:
        raise Unusable(f"request {source_id}: no customer (email or customer_id)")
    return InboundMessage(
        source=Channel.API,
        external_id=f"{SOURCE_PREFIX}{source_id}",
        body=text,
        subject=_text(item, fields.subject, SUBJECT_CHARS),
        customer=CustomerIdentity(
            name=_text(item, fields.name, NAME_CHARS) or email or customer_id or "",
            email=email,
            phone=None if email else customer_id,
        ),
        origin_channel="helpdesk",
        allow_auto_reply=False,  # old requests: nobody is waiting for an acknowledgement now
    )

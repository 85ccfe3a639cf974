"""The API's page cursors: opaque to callers, an offset inside."""

from __future__ import annotations

import base64

CURSOR_BYTES = 6  # base64url without padding: 8 characters, CURSOR_PATTERN in the schema


def encode_cursor(offset: int) -> str:
    """An opaque cursor: callers pass back what `next` gave them."""
    return base64.urlsafe_b64encode(offset.to_bytes(CURSOR_BYTES, "big")).decode()


def decode_cursor(cursor: str | None) -> int:
    """The offset of a cursor `Page` has validated: every 8 base64url characters are one.

    Any string the published pattern allows is a cursor, so a schema-valid request is never
    refused; an offset past the end is just an empty last page.
    """
    if cursor is None:
        return 0
    return int.from_bytes(base64.urlsafe_b64decode(cursor), "big")

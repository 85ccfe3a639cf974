"""Reading the external ticket system's answer: an id, or one clear reason why there is none.

Accepted: a 2xx answer whose body is a JSON object with `ticket_id` or `id` (`ticket_id` wins
when both are there), the value a string of 1 to 100 printable characters (surrounding
blanks are dropped) or an integer. Anything else is a failed delivery, retried by the outbox.
"""

from __future__ import annotations

import json

from services.tickets import TICKET_ID_MAX_CHARS

PREVIEW_CHARS = 200
ID_KEYS = ("ticket_id", "id")


class TicketAnswerError(Exception):
    """The ticket system's answer holds no usable id; the message says why, in one line."""


def preview(body: bytes) -> str:
    """The start of a body for a log line: decoded leniently, on one line, clipped."""
    text = body[: PREVIEW_CHARS * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def ticket_id_from(status: int, body: bytes) -> str:
    """The id in a successful answer, or TicketAnswerError."""
    if not 200 <= status < 300:
        raise TicketAnswerError(f"ticket system answered HTTP {status}: {preview(body)!r}")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, absurd nesting
        raise TicketAnswerError(f"ticket system answered no JSON: {preview(body)!r}") from None
    if not isinstance(data, dict):
        raise TicketAnswerError(f"ticket system answered no JSON object: {preview(body)!r}")
    key = next((k for k in ID_KEYS if k in data), None)
    if key is None:
        raise TicketAnswerError(f"ticket system answered no ticket_id or id: {preview(body)!r}")
    value = data[key]
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise TicketAnswerError(f"ticket system's {key} is not a string or an integer")
    if not text or len(text) > TICKET_ID_MAX_CHARS or not text.isprintable():
        raise TicketAnswerError(
            f"ticket system's {key} is not 1 to {TICKET_ID_MAX_CHARS} printable characters"
        )
    return text

"""Logging for `casebot run`: text or JSON lines, with secrets redacted and bodies cut short.

Redaction happens in the handler's formatter, on the finished line, so that nothing escapes
it: not a library's debug dump of a Socket Mode envelope, not an exception's traceback, not
an `extra=` field. Long arguments (a customer's message, a raw payload) are cut to a short
preview before formatting, so a body never reaches the log whole.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

PREVIEW_CHARS = 120  # a string argument longer than this is logged as its first characters
MAX_MESSAGE_CHARS = 2_000  # a whole message (not its traceback) is cut here
# Libraries format payloads into the message itself (f-strings: slack_sdk's debug lines dump
# whole envelopes), so a body cannot be told apart from the rest: their lines are cut shorter.
LIBRARY_MESSAGE_CHARS = 300
OWN_LOGGERS = ("bot", "handlers", "services", "storage", "casebot")
TRACEBACK_LINE_CHARS = 300  # an exception's message may quote a body: its lines are cut too
MIN_SECRET_CHARS = 4  # shorter configured "secrets" would blank out ordinary words
REDACTED = "[redacted]"

# Slack tokens (bot, user, app-level, refresh …) and the password in a URL's user info.
TOKEN = re.compile(r"\b(?:xox[abposre]|xapp)-[A-Za-z0-9-]+")
URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+):[^@/\s]+@", re.IGNORECASE)

# What a LogRecord carries anyway; everything else on it came from `extra=`.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class Redactor:
    """Removes Slack tokens, URL passwords and the configured secret values from text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        found = {s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}
        # longest first, so that a secret containing another is removed whole
        self._secrets = sorted(found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = TOKEN.sub(REDACTED, text)
        return URL_PASSWORD.sub(rf"\g<scheme>:{REDACTED}@", text)


def preview(value: object, limit: int = PREVIEW_CHARS) -> object:
    """A long string (or bytes) argument cut to `limit` characters, saying how long it was."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}… ({len(value)} chars)"
    return value


def message_of(record: logging.LogRecord) -> str:
    """The record's message with long arguments previewed and the whole capped."""
    args = record.args
    if isinstance(args, tuple):
        args = tuple(preview(arg) for arg in args)
    elif isinstance(args, dict):
        args = {key: preview(value) for key, value in args.items()}
    own = record.name.split(".")[0] in OWN_LOGGERS
    limit = MAX_MESSAGE_CHARS if own else LIBRARY_MESSAGE_CHARS
    msg = str(preview(record.msg, limit)) if not args else str(record.msg)
    try:
        text = msg % args if args else msg
    except (TypeError, ValueError):  # a malformed call: show what was given
        text = f"{msg} {args!r}"
    return str(preview(text, limit))


def traceback_of(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    """The record's traceback (if any), each line cut to TRACEBACK_LINE_CHARS."""
    if record.exc_info:
        text = formatter.formatException(record.exc_info)
    elif record.exc_text:
        text = record.exc_text
    else:
        return None
    return "\n".join(str(preview(line, TRACEBACK_LINE_CHARS)) for line in text.splitlines())


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a call added with `extra=` (case, event_id, kind …)."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }


class TextFormatter(logging.Formatter):
    """`2026-11-24 05:00:00,000 INFO bot.runtime: message [case=12 event_id=Ev1]`."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._redact = redact

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = message_of(record)
        fields = extras(record)
        line = super().formatMessage(record)
        if fields:
            line += " [" + " ".join(f"{k}={preview(v)}" for k, v in fields.items()) + "]"
        return line

    def formatException(self, ei: Any) -> str:
        record = logging.LogRecord("", 0, "", 0, "", None, ei)
        return traceback_of(logging.Formatter(), record) or ""

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO-8601 UTC), level, logger, message, the extras,
    and `exception` with the traceback when there is one."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message_of(record),
        }
        for key, value in extras(record).items():
            entry.setdefault(key, preview(value))
        trace = traceback_of(self, record)
        if trace:
            entry["exception"] = trace
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Redacting the serialised line also covers the values inside it; a secret with JSON
        # escapes in it (a quote, a backslash) is matched in its escaped form as well.
        return self._redact(json.dumps(entry, ensure_ascii=False, default=str))


def configure(level: str, *, fmt: str = "text", secrets: Iterable[str | None] = ()) -> None:
    """Send every logger to stderr in `fmt` (text | json) at `level`, secrets redacted."""
    values = [s for s in secrets if s]
    redact = Redactor([*values, *(json.dumps(s)[1:-1] for s in values)])
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(redact) if fmt == "json" else TextFormatter(redact))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings become records, in the same format
    quiet = max(logging.WARNING, logging.getLevelName(level))
    for chatty in ("slack_bolt", "apscheduler"):  # a line per envelope / per job run otherwise
        logging.getLogger(chatty).setLevel(quiet)

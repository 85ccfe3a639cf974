"""Raw inbound email to a plain ParsedEmail; bad input degrades into notes instead of errors."""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import errors, policy
from email.message import Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from handlers.email.body import Attachment, Body, extract_body
from handlers.email.headers import addresses, header_text, message_ids, unfold
from handlers.email.loops import auto_reply_reason, bounced_message_id, is_dsn, is_mailer_daemon
from handlers.email.quotes import strip_quotes

__all__ = ["Attachment", "ParsedEmail", "UnparseableEmail", "parse_email"]

_CASE = re.compile(r"\[\s*case\s*#\s*(\d{1,9})\s*\]", re.IGNORECASE)  # case ids are int4


class UnparseableEmail(Exception):
    """The input is not an email at all (e.g. empty bytes)."""


@dataclass(frozen=True)
class ParsedEmail:
    """Everything a case needs from one inbound message."""

    message_id: str
    has_message_id: bool
    subject: str
    from_address: str
    from_name: str
    to: tuple[str, ...]
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    case_number: int | None
    text: str
    full_text: str
    truncated: bool
    notes: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    auto_reply_reason: str | None
    is_bounce: bool
    bounced_message_id: str | None
    authentication_results: tuple[str, ...]


def _headers(msg: Message) -> dict[str, list[str]]:
    """Lower-cased name -> unfolded raw values; raw items never go through header parsing."""
    result: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        result.setdefault(str(name).strip().lower(), []).append(unfold(str(value)).strip())
    return result


def _parse_date(value: str | None, notes: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except Exception:  # ValueError, TypeError, OverflowError on nonsense dates
        notes.append(f"unreadable date {value[:80]!r}")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        notes.append(f"unreadable date {value[:80]!r}")
        return None


def _cap(text: str, limit: int) -> tuple[str, bool]:
    return (text[:limit], True) if len(text) > limit else (text, False)


def _fallback(raw: bytes, notes: list[str]) -> Message:
    """compat32 for broken headers; headers only when the MIME tree is too deep to parse."""
    try:
        return email.message_from_bytes(raw, policy=policy.compat32)
    except Exception as exc:
        notes.append(f"MIME structure unreadable ({type(exc).__name__}); body shown raw")
    return BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)


def _read_body(raw: bytes, msg: Message, small: int, notes: list[str]) -> tuple[Message, Body]:
    """Body with the default policy, falling back to compat32 when a broken header raises."""
    try:
        return msg, extract_body(msg, small)
    except Exception as exc:
        notes.append(f"headers too broken for the strict parser ({type(exc).__name__}); re-read")
    compat = _fallback(raw, notes)
    try:
        return compat, extract_body(compat, small)
    except Exception as exc:
        notes.append(f"body could not be read ({type(exc).__name__})")
        return compat, Body()


def _bounce(msg: Message, from_address: str) -> tuple[bool, str | None]:
    try:
        bounce = is_dsn(msg) or is_mailer_daemon(from_address)
        return bounce, bounced_message_id(msg) if bounce else None
    except Exception:
        return is_mailer_daemon(from_address), None


def parse_email(
    raw: bytes, *, max_text_chars: int = 100_000, small_attachment_bytes: int = 1_000_000
) -> ParsedEmail:
    """Parse raw RFC 5322 bytes; only input that is not an email at all raises UnparseableEmail."""
    if not raw.strip():
        raise UnparseableEmail("empty input")
    notes: list[str] = []
    try:
        msg: Message = email.message_from_bytes(raw, policy=policy.default)
    except Exception:
        msg = _fallback(raw, notes)
    headers = _headers(msg)
    if not headers:
        raise UnparseableEmail("no header lines found; not an email")
    if any(isinstance(d, errors.MissingHeaderBodySeparatorDefect) for d in msg.defects):
        notes.append("header section ended at a line without a colon; the rest is read as body")

    def first(name: str) -> str | None:
        values = headers.get(name)
        return values[0] if values else None

    ids = message_ids(first("message-id") or "")
    bare_id = (first("message-id") or "").strip()
    if not ids and bare_id and " " not in bare_id:
        ids = (f"<{bare_id.strip('<>')}>",)
    message_id = ids[0] if ids else f"<{hashlib.sha256(raw).hexdigest()}@casebot.invalid>"
    subject = header_text(first("subject") or "")
    sender = addresses(first("from") or "")
    from_name, from_address = sender[0] if sender else ("", "")
    to = tuple(addr for value in headers.get("to", []) for _, addr in addresses(value) if addr)
    case_match = _CASE.search(subject)
    reply_ids = message_ids(first("in-reply-to") or "")

    msg, body = _read_body(raw, msg, small_attachment_bytes, notes)
    notes.extend(body.notes)
    full = body.text.strip()
    new = strip_quotes(full)
    if full and not new:
        new = full
        notes.append("only quoted text or a signature; showing the whole body")
    if not full:
        notes.append("empty message")
    full_capped, cut_full = _cap(full, max_text_chars)
    new_capped, cut_new = _cap(new, max_text_chars)
    truncated = cut_full or cut_new
    if truncated:
        notes.append(f"body cut at {max_text_chars:,} characters")
    kept_out = sum(1 for a in body.attachments if a.content is None)
    if kept_out:
        notes.append(f"{kept_out} attachment(s) not kept: too large")
    bounce, bounced_id = _bounce(msg, from_address)
    return ParsedEmail(
        message_id=message_id,
        has_message_id=bool(ids),
        subject=subject,
        from_address=from_address,
        from_name=from_name,
        to=to,
        date=_parse_date(first("date"), notes),
        in_reply_to=reply_ids[0] if reply_ids else None,
        references=message_ids(" ".join(headers.get("references", []))),
        case_number=int(case_match.group(1)) if case_match else None,
        text=new_capped,
        full_text=full_capped,
        truncated=truncated,
        notes=tuple(notes),
        attachments=body.attachments,
        auto_reply_reason=auto_reply_reason(headers, from_address, is_bounce=bounce),
        is_bounce=bounce,
        bounced_message_id=bounced_id,
        authentication_results=tuple(headers.get("authentication-results", [])),
    )

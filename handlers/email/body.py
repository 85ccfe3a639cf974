"""Walk the MIME tree: pick the text a human wrote and list attachments, never raising on junk."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from handlers.email.charsets import clean_text, decode_bytes
from handlers.email.headers import decode_words
from handlers.email.html_text import html_to_text

_MAX_DEPTH = 40
_SKIPPED = frozenset(
    {
        "message/delivery-status",
        "text/rfc822-headers",
        "message/rfc822-headers",
        "message/disposition-notification",
    }
)
_FORWARD = frozenset({"message/rfc822", "message/global"})


@dataclass(frozen=True)
class Attachment:
    """One attachment; content is kept only for small ones."""

    filename: str
    content_type: str
    size: int
    content: bytes | None


@dataclass
class Body:
    """Text pieces in order, plus what else the walk found."""

    text: str = ""
    notes: list[str] = field(default_factory=list)
    attachments: tuple[Attachment, ...] = ()


@dataclass
class _Walk:
    small: int
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _filename(part: Message) -> str:
    name = part.get_filename() or part.get_param("name", header="content-type") or ""
    if not isinstance(name, str):
        name = str(name)  # compat32 may hand back an RFC 2231 triple
    name = decode_words(name)
    name = re.split(r"[/\\]", name)[-1]
    return clean_text("".join(ch for ch in name if ch.isprintable())).strip()


def _text_of(part: Message, notes: list[str]) -> str:
    text, note = decode_bytes(_payload(part), part.get_content_charset())
    if note and note not in notes:
        notes.append(note)
    return clean_text(text).replace("\r\n", "\n").replace("\r", "\n")


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment"


def _add_attachment(part: Message, walk: _Walk) -> None:
    data = _payload(part)
    walk.attachments.append(
        Attachment(
            filename=_filename(part),
            content_type=part.get_content_type(),
            size=len(data),
            content=data if len(data) <= walk.small else None,
        )
    )


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [c for c in payload if isinstance(c, Message)] if isinstance(payload, list) else []


def _alternative(part: Message) -> Message | None:
    """multipart/alternative: text/plain first, then a nested multipart, then HTML."""
    children = _children(part)
    for ctype in ("text/plain", "multipart/", "text/html"):
        for child in children:
            if child.get_content_type().startswith(ctype):
                return child
    return children[-1] if children else None


def _visit(part: Message, walk: _Walk, depth: int, forwarded: bool) -> None:
    if depth > _MAX_DEPTH:
        walk.notes.append("MIME nesting too deep; inner parts ignored")
        return
    ctype = part.get_content_type()
    if ctype in _SKIPPED:
        return
    if ctype in _FORWARD and part.is_multipart():
        for inner in _children(part):
            _visit(inner, walk, depth + 1, True)
        return
    if part.is_multipart():
        if ctype == "multipart/alternative":
            chosen = _alternative(part)
            children = [chosen] if chosen is not None else []
        else:
            children = _children(part)
        for child in children:
            _visit(child, walk, depth + 1, forwarded)
        return
    maintype = part.get_content_maintype()
    if _is_attachment(part) or (
        ctype not in ("text/plain", "text/html") and maintype != "multipart"
    ):
        _add_attachment(part, walk)
        return
    text = _text_of(part, walk.notes)
    if ctype == "text/html":
        text = html_to_text(text)
    if forwarded:
        walk.forwarded.append(text)
    elif ctype == "text/html":
        walk.html.append(text)
    else:
        walk.plain.append(text)


def extract_body(msg: Message, small_attachment_bytes: int) -> Body:
    """Prefer text/plain, else HTML as text, else a forwarded message's text."""
    walk = _Walk(small=small_attachment_bytes)
    _visit(msg, walk, 0, False)
    plain = [t for t in walk.plain if t.strip()]
    html = [t for t in walk.html if t.strip()]
    forwarded = [t for t in walk.forwarded if t.strip()]
    if plain:
        pieces = plain
    elif html:
        pieces = html
        walk.notes.append("no text part; HTML converted")
    elif forwarded:
        pieces = forwarded
        walk.notes.append("no text of its own; showing the forwarded message")
    else:
        pieces = []
    return Body("\n\n".join(p.strip() for p in pieces), walk.notes, tuple(walk.attachments))

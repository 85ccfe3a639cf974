"""Bytes to text that never fails: mail declares wrong or unknown charsets all the time."""

from __future__ import annotations

import codecs

_LATIN_FAMILY = frozenset(
    {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso8859-1", "windows-1252", "cp1252"}
)


def _try_decode(data: bytes, charset: str, errors: str) -> str | None:
    """Decode, or None when the codec is unknown, not a text codec or broken."""
    try:
        return data.decode(charset, errors)
    except (LookupError, UnicodeError):
        return None
    except Exception:  # odd codecs (e.g. charset names with NUL) raise other errors
        return None


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Return the text and a note for the case when the declared charset was not honoured."""
    declared = (charset or "us-ascii").strip().strip("\"'").lower() or "us-ascii"
    strict = _try_decode(data, declared, "strict")
    if strict is not None:
        if declared in _LATIN_FAMILY and not data.isascii():
            as_utf8 = _try_decode(data, "utf-8", "strict")
            if as_utf8 is not None:
                return as_utf8, f"charset '{declared}' declared but content is UTF-8; read as UTF-8"
        return strict, None
    as_utf8 = _try_decode(data, "utf-8", "strict")
    try:
        known = codecs.lookup(declared)._is_text_encoding
    except (LookupError, ValueError, TypeError):
        known = False
    if not known:
        if as_utf8 is not None:
            return as_utf8, f"unknown charset '{declared}' read as UTF-8"
        return data.decode("latin-1"), f"unknown charset '{declared}' read as latin-1"
    if as_utf8 is not None:
        return as_utf8, f"text is not valid '{declared}'; read as UTF-8"
    if charset is None:
        return data.decode("latin-1"), "8-bit text without a charset read as latin-1"
    replaced = _try_decode(data, declared, "replace")
    if replaced is None:
        return data.decode("latin-1"), f"charset '{declared}' failed; read as latin-1"
    return replaced, f"invalid '{declared}' bytes replaced"


def clean_text(text: str) -> str:
    """Make a str safe to store and send: no lone surrogates, no NULs."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:
            text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text.replace("\x00", "")

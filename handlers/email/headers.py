"""Header decoding done by hand, so broken or exotic headers degrade instead of raising."""

from __future__ import annotations

import base64
import binascii
import re
from email.utils import getaddresses

from handlers.email.charsets import clean_text, decode_bytes

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_ADDR_SPEC = re.compile(r"^[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+$")
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PRINTABLE_MSG_ID = re.compile(r"^<[!-~]+>$")
MAX_DECODE_PASSES = 8  # each layer of encoding grows the text, so real mail never nests deep


def unfold(raw: str) -> str:
    """Join folded lines and turn raw 8-bit bytes (kept as surrogates) back into text."""
    value = re.sub(r"\r?\n[ \t]*", " ", raw).replace("\r", " ").replace("\n", " ")
    return clean_text(value)


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    """Bytes of one encoded word, or None when the payload is not valid."""
    try:
        if encoding in "bB":
            padded = payload + "=" * (-len(payload) % 4)
            return base64.b64decode(padded.encode("ascii"))
        return binascii.a2b_qp(payload.encode("ascii"), header=True)
    except (binascii.Error, ValueError):
        return None


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words; adjacent words in one charset are joined before decoding."""
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset = ""
    prev_word = False
    pos = 0

    def flush() -> None:
        if pending:
            out.append(decode_bytes(b"".join(pending), pending_charset or None)[0])
            pending.clear()

    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        pos = match.end()
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:
            flush()
            out.append(between + match.group(0))
            prev_word = False
            continue
        charset = match.group(1).split("*", 1)[0].lower()
        if not (prev_word and not between.strip()):
            flush()
            out.append(between)
        elif charset != pending_charset:
            flush()
        pending.append(data)
        pending_charset = charset
        prev_word = True
    flush()
    out.append(value[pos:])
    return clean_text("".join(out))


def header_text(value: str) -> str:
    """A header value as we store it and as we may write it back: encoded words decoded until
    none is left, control characters turned into spaces, whitespace collapsed.

    One pass is not enough: a doubly encoded Subject hides CR/LF in its inner word, and
    CPython's `email` before 3.11.10 writes such a word back decoded, which injects headers
    (CVE-2024-6923). A `=?` that still remains (a word too broken to decode) is split so
    that no mail client reads it as an encoded word.
    """
    for _ in range(MAX_DECODE_PASSES):
        decoded = decode_words(value)
        if decoded == value:
            break
        value = decoded
    value = _CONTROL.sub(" ", value).replace("=?", "= ?")
    return collapse(value)


def printable_message_id(value: str) -> bool:
    """A message id we can write back verbatim: `<…>` of printable ASCII, no encoded word."""
    return bool(_PRINTABLE_MSG_ID.match(value)) and "=?" not in value


def collapse(text: str) -> str:
    """Collapse runs of whitespace to one space."""
    return " ".join(text.split())


def message_ids(value: str) -> tuple[str, ...]:
    """All "<...>" message ids in a header value, in order."""
    return tuple(f"<{m}>" for m in _MSG_ID.findall(value))


_ANGLE_ADDR = re.compile(r"<([^<>]*)>\s*$")


def _mailboxes(value: str) -> list[str]:
    """The header's mailboxes, split on commas outside quotes and angle brackets."""
    parts: list[str] = []
    current: list[str] = []
    quoted = angled = False
    for char in value:
        if char == '"' and not angled:
            quoted = not quoted
        elif char == "<" and not quoted:
            angled = True
        elif char == ">" and not quoted:
            angled = False
        if char == "," and not quoted and not angled:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _pairs(value: str) -> list[tuple[str, str]]:
    """(name, addr) per mailbox. A mailbox with `<addr>` is that address, whatever its
    display name says: `victim@bank.com <attacker@evil.test>` is attacker@evil.test (the
    standard parser would make it two addresses, the first one the victim's)."""
    pairs: list[tuple[str, str]] = []
    for mailbox in _mailboxes(value):
        if mailbox.replace('\\"', "").count('"') % 2:  # an unclosed quote: unusable
            pairs.append(("", ""))
            continue
        angle = _ANGLE_ADDR.search(mailbox)
        if angle is not None:
            name = mailbox[: angle.start()].strip()
            if len(name) >= 2 and name[0] == name[-1] == '"':
                name = name[1:-1].replace('\\"', '"')
            pairs.append((name, angle.group(1)))
        else:
            pairs.extend(getaddresses([mailbox]))
    return pairs


def addresses(value: str) -> list[tuple[str, str]]:
    """(display name, lower-cased addr-spec) pairs; the addr-spec is "" when unusable."""
    try:
        pairs = _pairs(value)
    except Exception:
        return []
    result: list[tuple[str, str]] = []
    for name, addr in pairs:
        addr = addr.strip().lower()
        if not _ADDR_SPEC.match(addr):
            addr = ""
        if name or addr:
            result.append((header_text(name), addr))
    return result

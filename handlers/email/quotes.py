"""Strip quoted history and signatures, so a case shows only what the customer just wrote."""

from __future__ import annotations

import re

_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(original message|forwarded message|ursprüngliche nachricht|message d'origine)"
    r"\s*-{2,}",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{8,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?(from|von|de)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_SENT = re.compile(r"^\s*\*?(sent|date|gesendet|envoyé)\s*:", re.IGNORECASE)
_ON_START = re.compile(r"^\s*(on|am|le|el|il|op)\s", re.IGNORECASE)
_WROTE_END = re.compile(
    r"(wrote|writes|schrieb|a\s+écrit|escribió|ha\s+scritto|schreef)\s*:\s*$", re.IGNORECASE
)
_SIGNATURE = re.compile(r"^--\s?$")
_MOBILE = re.compile(
    r"^\s*(sent from my \w+|sent from (mail|outlook|yahoo mail)\b|get outlook for \w+"
    r"|sent from my [\w ]+ device|von meinem \w+ gesendet)",
    re.IGNORECASE,
)


def _is_outlook_header(lines: list[str], index: int) -> bool:
    """A "From: …" line followed closely by "Sent:"/"Date:" starts an Outlook quoted block."""
    if not _HEADER_FROM.match(lines[index]):
        return False
    return any(_HEADER_SENT.match(line) for line in lines[index + 1 : index + 5])


def _is_on_wrote(lines: list[str], index: int) -> bool:
    """ "On <date>, <name> wrote:", possibly wrapped over up to three lines."""
    if not _ON_START.match(lines[index]):
        return False
    joined = ""
    for line in lines[index : index + 3]:
        joined = f"{joined} {line.strip()}"
        if _WROTE_END.search(joined):
            return True
        if not line.strip():
            return False
    return False


def _cut_index(lines: list[str]) -> int:
    """Index of the first line of quoted history or signature, or len(lines)."""
    for index, line in enumerate(lines):
        if (
            _ORIGINAL.match(line)
            or _SIGNATURE.match(line)
            or _MOBILE.match(line)
            or _is_on_wrote(lines, index)
            or _is_outlook_header(lines, index)
            or (
                _UNDERSCORES.match(line)
                and any(_HEADER_FROM.match(nxt) for nxt in lines[index + 1 : index + 3])
            )
        ):
            return index
    return len(lines)


def strip_quotes(text: str) -> str:
    """What is new in a reply; "" when all was quoted (callers fall back to the full text)."""
    lines = text.split("\n")
    kept = [line for line in lines[: _cut_index(lines)] if not line.lstrip().startswith(">")]
    joined = "\n".join(line.rstrip() for line in kept)
    return re.sub(r"\n{3,}", "\n\n", joined).strip()

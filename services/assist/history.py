"""Resolved history for suggested replies: a help-desk export read from CSV, and the
placeholders that keep one customer's name and case number out of another's draft."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from services.errors import DomainError

MAX_TEXT, MAX_REPLY = 10_000, 20_000
CUSTOMER, CASE = "{customer}", "{case}"
_GREETING = re.compile(
    r"^(\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)),?\s+)"
    r"([A-Z][\w'-]*)(?=[\s,!.:])",
    re.IGNORECASE,
)


class HistoryFileError(DomainError):
    """The export cannot be read at all (missing file or column, not CSV)."""


@dataclass(frozen=True)
class HistoryRow:
    line: int
    text: str
    reply: str
    label: str | None = None


@dataclass(frozen=True)
class HistoryFile:
    rows: list[HistoryRow]
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, why)


def read_history(
    path: Path, text_col: str, reply_col: str | None, label_col: str | None
) -> HistoryFile:
    """The usable rows of a CSV export; the others listed by line with why. `reply_col` None
    reads questions only (an evaluation file)."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise HistoryFileError(f"cannot read {path}: {error}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for name in (text_col, reply_col, label_col):
            if name is not None and name not in header:
                raise HistoryFileError(
                    f"{path} has no column {name!r} (it has: {', '.join(header)})"
                )
        rows, rejected = [], []
        try:
            for record in reader:
                line = reader.line_num
                text = (record.get(text_col) or "").strip()
                reply = (record.get(reply_col) or "").strip() if reply_col else ""
                label = (record.get(label_col) or "").strip() if label_col else None
                if not text:
                    rejected.append((line, f"empty {text_col}"))
                elif reply_col and not reply:
                    rejected.append((line, f"empty {reply_col}"))
                elif label_col and not label:
                    rejected.append((line, f"empty {label_col}"))
                elif len(text) > MAX_TEXT or len(reply) > MAX_REPLY:
                    rejected.append((line, "longer than a support message can be"))
                else:
                    rows.append(HistoryRow(line, text, reply, label or None))
        except (csv.Error, UnicodeDecodeError) as error:
            raise HistoryFileError(f"{path} is not readable CSV: {error}") from None
    return HistoryFile(rows, rejected)


def templated(reply: str, customer: str, number: int | None) -> str:
    """A reply with its customer's name and case number turned into placeholders."""
    out = reply.replace("{", "{{").replace("}", "}}")
    if number is not None:
        out = re.sub(rf"(?<!\d)#?{number}(?!\d)", CASE, out)
    for name in {customer.strip(), customer.strip().split(" ")[0]} - {""}:
        out = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", CUSTOMER, out)
    return _GREETING.sub(lambda m: m.group(1) + CUSTOMER, out, count=1)


def filled(template: str, customer: str, number: int) -> str:
    """A stored reply for this customer and case."""
    first = customer.strip().split(" ")[0] or "there"
    out = template.replace(CUSTOMER, first).replace(CASE, f"#{number}")
    return out.replace("{{", "{").replace("}}", "}")

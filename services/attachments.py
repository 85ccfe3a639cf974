"""Which files a case keeps, and how a message lists them.

Files reach a case from three sides (an email's attachments, files a Slack customer shares,
files an agent attaches to a reply) and take one path from here: kept bytes are stored as an
`Attachment` and delivered by the outbox (to the card's thread, or to the customer); a file
that is not kept is still listed under the message, with why.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from services.types import IncomingAttachment

# What a support desk is sent and can open safely: pictures, PDFs, text and office files.
# No archives or executables: they are listed, never passed on.
DEFAULT_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/heic",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.*",
    "application/vnd.oasis.opendocument.*",
    "application/msword",
    "application/vnd.ms-excel",
)


MAX_FILES, MAX_TOTAL = 10, 5_000_000  # kept from one message, at most


@dataclass(frozen=True)
class AttachmentPolicy:
    """Files up to `max_bytes` whose type matches one of `types` (`image/*` patterns), at
    most `max_files` of them and `max_total` bytes from one message."""

    max_bytes: int = 1_000_000
    types: tuple[str, ...] = DEFAULT_TYPES
    max_files: int = MAX_FILES
    max_total: int = MAX_TOTAL

    def refusal(self, content_type: str, size: int) -> str | None:
        """Why a file is not kept, or None when it is."""
        kind = content_type.split(";", 1)[0].strip().lower()
        if not any(fnmatch.fnmatchcase(kind, pattern.lower()) for pattern in self.types):
            return f"type {kind or 'unknown'} not accepted"
        if size > self.max_bytes:
            return f"larger than {self.max_bytes:,} bytes"
        return None


def within_message(
    files: Sequence[IncomingAttachment], *, max_files: int = MAX_FILES, max_total: int = MAX_TOTAL
) -> tuple[IncomingAttachment, ...]:
    """The message's files with at most `max_files` kept, `max_total` bytes in all (in order);
    the rest listed as not kept, with why: 500 parts make no 500 uploads."""
    kept_files = kept_bytes = 0
    out = []
    for file in files:
        size = len(file.content) if file.content is not None else 0
        if file.content is not None:
            if kept_files >= max_files:
                file = replace(file, content=None, refused=f"more than {max_files} files")
            elif kept_bytes + size > max_total:
                file = replace(file, content=None, refused=f"over {max_total:,} bytes in all")
            else:
                kept_files, kept_bytes = kept_files + 1, kept_bytes + size
        out.append(file)
    return tuple(out)


def listing(files: Iterable[IncomingAttachment]) -> list[str]:
    """One line per file for the message's text: kept ones by name, type and size, the others
    with why they were not kept."""
    lines = []
    for file in files:
        described = f"{file.filename} ({file.content_type}, {file.size:,} bytes)"
        if file.content is not None:
            lines.append(f"[file: {described}]")
        else:
            lines.append(f"[file not kept: {described}: {file.refused or 'not kept'}]")
    return lines


def safe_filename(name: str, default: str = "file") -> str:
    """A file name as shown and sent on: no directories, no control, bidi or zero-width
    characters (Python's non-printables), at most 255 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    shown = "".join(ch for ch in base if ch.isprintable()).strip()
    return shown[:255] or default

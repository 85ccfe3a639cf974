"""Names and titles as people see them: what a customer chose as a display name or subject
must not hide text or turn it around (U+202E makes "exe.pdf" read "fdp.exe").
"""

from __future__ import annotations

import unicodedata


def visible(text: str) -> str:
    """`text` without Unicode format characters (bidi overrides and isolates, zero-width
    spaces and joiners, the BOM) or control characters, on one line."""
    kept = []
    for char in text:
        kind = unicodedata.category(char)
        if kind == "Cf":
            continue
        kept.append(" " if kind == "Cc" or char in "\u2028\u2029" else char)
    return " ".join("".join(kept).split())

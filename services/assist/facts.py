"""Facts a summary quotes verbatim: amounts, order and invoice numbers, dates, addresses.

Pure pattern matching over the case's text: what is found is exactly what was written, so an
agent can search for it, and nothing is invented.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_FACTS = 8

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_NUMBER = r"\d{1,3}(?:[,.\u00a0 ]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_CURRENCY = r"(?:EUR|USD|GBP|CHF|CAD|AUD|JPY|SEK|NOK|DKK|PLN)"
_PATTERNS = [
    # money: "€42.50", "$ 1,200", "42 EUR", "EUR 42", "12.99 euros"
    rf"[€$£¥]\s?(?:{_NUMBER})",
    rf"\b{_CURRENCY}\s?(?:{_NUMBER})\b",
    rf"\b(?:{_NUMBER})\s?(?:{_CURRENCY}\b|€|£|euros?\b|dollars?\b|pounds?\b)",
    # references: "order #12345", "invoice INV-2024-001", "transaction no. 88123"
    r"\b(?:order|invoice|receipt|ref(?:erence)?|transaction|booking|ticket|account|tracking)"
    r"(?:\s+(?:no\.?|number|nr\.?|id))?\s*[#:]?\s*#?[A-Za-z]{0,4}[-/]?\d[\w\-/]{2,}",
    r"\b[A-Z]{2,5}-\d[\w\-]{2,}\b",  # INV-2024-0017
    # dates
    r"\b\d{4}-\d{2}-\d{2}\b",
    r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b",
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b(?:\s+\d{{4}})?",
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?",
    # email addresses
    r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b",
]
_FACT = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def facts(texts: Iterable[str], limit: int = MAX_FACTS) -> list[str]:
    """The facts in `texts`, verbatim, in the order they first appear, each once."""
    found: list[str] = []
    seen: set[str] = set()
    for text in texts:
        for match in _FACT.finditer(text):
            fact = match.group(0).strip(" .,;:")
            key = fact.casefold()
            if fact and key not in seen and not any(key in s for s in seen):
                seen.add(key)
                found.append(fact)
                if len(found) >= limit:
                    return found
    return found

"""Urgency from local signals, for when no model scores it: a number in [0, 1].

The request type's base priority sets the floor (priority 5 → 0.5), an urgent word adds
0.35, and each unanswered follow-up after the first adds 0.1 (at most 0.2). So a fraud
report that says "urgent" scores 0.85 and escalates on urgency (> 0.8) as well as on the
keyword; a general question never gets there on its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.rules import urgent_keywords_in


def local_urgency(
    text: str, *, priority: int, keywords: Iterable[str], followups: int = 1
) -> tuple[float, str]:
    """(score, why) from the request type's priority, urgent words and follow-ups."""
    score = (max(1, min(priority, 5)) - 1) / 4 * 0.5
    why = [f"priority {priority}"]
    found = urgent_keywords_in(text, keywords)
    if found:
        score += 0.35
        why.append("says " + ", ".join(repr(k) for k in found))
    extra = min(max(followups - 1, 0), 2)
    if extra:
        score += 0.1 * extra
        why.append(f"{followups} messages without a reply")
    return round(min(score, 1.0), 3), "; ".join(why)

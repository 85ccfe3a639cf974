"""The business rules as pure functions: escalation, closure phrase, notes, reopening."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

URGENCY_ESCALATES_ABOVE = 0.8
DEFAULT_URGENT_KEYWORDS = ("urgent", "immediately", "emergency", "critical")
NOTE_PREFIX = "note:"

_APOSTROPHES = "'\u2019\u2018\u02bc\u0060\u00b4"
_CLOSURE = re.compile(rf"\bi[{_APOSTROPHES}]m\s+closing\s+this\s+case\.", re.IGNORECASE)


class EscalationReason(StrEnum):
    FOLLOWUPS = "followups"
    KEYWORD = "keyword"
    INACTIVITY = "inactivity"
    URGENCY = "urgency"  # the urgency score is above 0.8
    SLA = "sla"  # no agent answered within the catalog's SLA
    STORM = "storm"  # a master incident: many similar cases at once
    MANUAL = "manual"


@dataclass(frozen=True)
class RulesConfig:
    """The configurable thresholds (DESIGN.md, business rules)."""

    inactivity_hours: float = 48.0
    followups: int = 3
    urgent_keywords: tuple[str, ...] = field(default=DEFAULT_URGENT_KEYWORDS)
    reopen_window_hours: float = 72.0
    # An agent's reply from Slack waits this long before it goes, to be undone or edited.
    reply_undo_seconds: float = 0.0
    # Whether email customers can be asked to rate a case: the links need PUBLIC_URL.
    ratings_by_email: bool = True


@lru_cache(maxsize=32)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    words = [k.strip() for k in keywords if k.strip()]
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    # Lookarounds instead of \b so that keywords that end in punctuation still match whole.
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def urgency_label(score: float) -> str:
    """A word for an urgency score in [0, 1], for integrations that sort or filter on one:
    critical is the score that escalates (above 0.8), then high, medium and low."""
    if score > URGENCY_ESCALATES_ABOVE:
        return "critical"
    if score >= 0.6:
        return "high"
    if score >= 0.3:
        return "medium"
    return "low"


def urgent_keywords_in(text: str, keywords: Iterable[str]) -> list[str]:
    """The configured keywords that occur in `text` as whole words, in any case."""
    pattern = _keyword_pattern(tuple(keywords))
    if pattern is None:
        return []
    found: dict[str, None] = {}
    for match in pattern.finditer(text):
        found[match.group(0).casefold()] = None
    return list(found)


def too_many_followups(consecutive_customer_messages: int, threshold: int) -> bool:
    """At least `threshold` customer messages in a row without an agent's reply."""
    return consecutive_customer_messages >= threshold


def waiting_since(
    last_customer_at: datetime | None, last_agent_at: datetime | None
) -> datetime | None:
    """When the customer's unanswered wait began, or None if nobody is waiting."""
    if last_customer_at is None:
        return None
    if last_agent_at is not None and last_agent_at >= last_customer_at:
        return None
    return last_customer_at


def waited_too_long(
    last_customer_at: datetime | None, last_agent_at: datetime | None, now: datetime, hours: float
) -> bool:
    """The customer has waited at least `hours` since their last message with no agent reply."""
    since = waiting_since(last_customer_at, last_agent_at)
    return since is not None and now - since >= timedelta(hours=hours)


def is_closure(text: str) -> bool:
    """An agent's message that closes the case: "I'm closing this case." in any case, in the
    agent's own words (a quoted line, `> I'm closing this case.`, is someone else's)."""
    own = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
    return _CLOSURE.search(own) is not None


_LINK = re.compile(r"\S+://\S+|www\.\S+")


def asks_a_question(text: str) -> bool:
    """Whether an agent's message ends a sentence with "?" (outside quoted lines and links,
    whose query strings are no question): the customer owes an answer, worth one nudge."""
    for line in text.splitlines():
        if line.lstrip().startswith(">"):
            continue  # quoted from the customer's mail
        if "?" in _LINK.sub(" ", line):
            return True
    return False


def split_note(text: str) -> tuple[bool, str]:
    """(True, rest) when an agent's thread reply is an internal note (`note:` prefix)."""
    stripped = text.lstrip()
    if stripped[: len(NOTE_PREFIX)].casefold() == NOTE_PREFIX:
        return True, stripped[len(NOTE_PREFIX) :].strip()
    return False, text


def can_reopen(resolved_at: datetime | None, now: datetime, window_hours: float) -> bool:
    """A resolved case is reopened by the customer within the window; after it, a new case opens."""
    return resolved_at is not None and now - resolved_at <= timedelta(hours=window_hours)


@dataclass(frozen=True)
class CaseFacts:
    """What the escalation rules look at, detached from storage."""

    consecutive_customer_messages: int
    last_customer_at: datetime | None
    last_agent_at: datetime | None
    text: str = ""
    urgency: float = 0.0
    sla_due_at: datetime | None = None


def escalation_reasons(
    facts: CaseFacts, now: datetime, config: RulesConfig
) -> set[EscalationReason]:
    """Every automatic reason that holds now."""
    reasons: set[EscalationReason] = set()
    if too_many_followups(facts.consecutive_customer_messages, config.followups):
        reasons.add(EscalationReason.FOLLOWUPS)
    if facts.text and urgent_keywords_in(facts.text, config.urgent_keywords):
        reasons.add(EscalationReason.KEYWORD)
    if waited_too_long(facts.last_customer_at, facts.last_agent_at, now, config.inactivity_hours):
        reasons.add(EscalationReason.INACTIVITY)
    if facts.urgency > URGENCY_ESCALATES_ABOVE:
        reasons.add(EscalationReason.URGENCY)
    if sla_breached(facts.sla_due_at, facts.last_agent_at, now):
        reasons.add(EscalationReason.SLA)
    return reasons


def sla_breached(due_at: datetime | None, last_agent_at: datetime | None, now: datetime) -> bool:
    """The catalog's SLA is for the first answer: due and no agent has written yet."""
    return due_at is not None and last_agent_at is None and now >= due_at


def new_reasons(found: Iterable[str], already: Iterable[str]) -> list[str]:
    """Reasons not alerted yet, in a stable order: each reason alerts once."""
    seen = set(already)
    return sorted({str(r) for r in found} - seen)

"""The business rules as pure functions (DESIGN.md, rules 2 and 3)."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from services.rules import (
    DEFAULT_URGENT_KEYWORDS,
    URGENCY_ESCALATES_ABOVE,
    CaseFacts,
    EscalationReason,
    RulesConfig,
    can_reopen,
    escalation_reasons,
    is_closure,
    new_reasons,
    split_note,
    too_many_followups,
    urgency_label,
    urgent_keywords_in,
    waited_too_long,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KEYWORDS = DEFAULT_URGENT_KEYWORDS
separators = st.sampled_from([" ", "\n", ", ", ". ", "! ", "(", ")", "\t", " - "])
plain_words = st.text(alphabet=string.ascii_letters, min_size=1, max_size=12)


def random_case(word: str, draw_case: list[bool]) -> str:
    return "".join(c.upper() if up else c.lower() for c, up in zip(word, draw_case, strict=False))


# --- urgent keywords -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("This is urgent", ["urgent"]),
        ("URGENT: card blocked", ["urgent"]),
        ("Please fix it immediately!", ["immediately"]),
        ("an Emergency, critical stuff", ["emergency", "critical"]),
        ("urgently needed", []),
        ("nonurgent", []),
        ("critically acclaimed", []),
        ("urgent_fix", []),
        ("", []),
    ],
)
def test_keywords_match_whole_words_in_any_case(text: str, found: list[str]) -> None:
    assert urgent_keywords_in(text, KEYWORDS) == found


@given(
    keyword=st.sampled_from(KEYWORDS),
    flips=st.lists(st.booleans(), min_size=12, max_size=12),
    before=st.lists(plain_words, max_size=5),
    after=st.lists(plain_words, max_size=5),
    sep=separators,
)
def test_a_keyword_between_separators_is_always_found(
    keyword: str, flips: list[bool], before: list[str], after: list[str], sep: str
) -> None:
    text = sep.join([*before, random_case(keyword, flips), *after])
    assert keyword in urgent_keywords_in(text, KEYWORDS)


@given(
    keyword=st.sampled_from(KEYWORDS),
    prefix=st.text(alphabet=string.ascii_letters + string.digits + "_", max_size=4),
    suffix=st.text(alphabet=string.ascii_letters + string.digits + "_", max_size=4),
)
def test_a_keyword_glued_to_other_letters_is_never_found(
    keyword: str, prefix: str, suffix: str
) -> None:
    if not (prefix or suffix):
        return
    assert urgent_keywords_in(prefix + keyword + suffix, [keyword]) == []


@given(st.text(max_size=200))
def test_keyword_matching_never_crashes_and_only_reports_configured_words(text: str) -> None:
    assert set(urgent_keywords_in(text, KEYWORDS)) <= set(KEYWORDS)


def test_keywords_with_regex_characters_are_literal() -> None:
    assert urgent_keywords_in("we need c++ help", ["c++"]) == ["c++"]
    assert urgent_keywords_in("cxx", ["c.."]) == []
    assert urgent_keywords_in("anything", []) == []


# --- closure phrase ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I'm closing this case.",
        "i'm closing this case.",
        "I\u2019m closing this case.",
        "Thanks for your patience. I'M CLOSING THIS CASE. Bye!",
        "All done, I\u2019M Closing This Case.",
        "> Any news?\nYes: refunded. I'm closing this case.",
    ],
)
def test_closure_phrase_any_case_straight_or_curly(text: str) -> None:
    assert is_closure(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm closing this case",  # no full stop: not the phrase
        "Im closing this case.",
        "I am closing this case.",
        "I'm not closing this case.",
        "I'm closing this cases.",
        "",
        "> I'm closing this case.",  # quoted from an earlier mail: not the agent's words
        "Thanks!\n\nOn Monday Agnes wrote:\n>> I'm closing this case.",
    ],
)
def test_near_misses_do_not_close(text: str) -> None:
    assert not is_closure(text)


@given(
    flips=st.lists(st.booleans(), min_size=25, max_size=25),
    apostrophe=st.sampled_from(["'", "\u2019"]),
    before=st.text(max_size=50),
    after=st.text(max_size=50),
)
def test_closure_phrase_found_anywhere_in_any_case(
    flips: list[bool], apostrophe: str, before: str, after: str
) -> None:
    phrase = random_case(f"I{apostrophe}m closing this case.", flips)
    text = f"{before} {phrase} {after}"
    line = next(line for line in text.splitlines() if phrase in line)
    assume(not line.lstrip().startswith(">"))  # a quoted line is someone else's words
    assert is_closure(text)


@given(st.text(alphabet=st.characters(blacklist_characters="."), max_size=200))
def test_text_without_a_full_stop_never_closes(text: str) -> None:
    assert not is_closure(text)


# --- notes, follow-ups, waiting, reopening -------------------------------------------------


def test_note_prefix_is_case_insensitive_and_stripped() -> None:
    assert split_note("note: check the ledger") == (True, "check the ledger")
    assert split_note("  NOTE:  vip customer") == (True, "vip customer")
    assert split_note("Please note: we refunded you") == (False, "Please note: we refunded you")


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=1, max_value=50))
def test_followups_threshold(consecutive: int, threshold: int) -> None:
    assert too_many_followups(consecutive, threshold) == (consecutive >= threshold)


def test_waiting_counts_from_the_last_unanswered_customer_message() -> None:
    assert waited_too_long(T0, None, T0 + timedelta(hours=48), 48)
    assert not waited_too_long(T0, None, T0 + timedelta(hours=47.9), 48)
    answered = T0 + timedelta(hours=1)
    assert not waited_too_long(T0, answered, T0 + timedelta(hours=100), 48)
    assert waited_too_long(answered + timedelta(hours=1), answered, T0 + timedelta(hours=50), 48)
    assert not waited_too_long(None, None, T0, 48)


def test_fractional_hours() -> None:
    assert waited_too_long(T0, None, T0 + timedelta(seconds=1.8), 0.0005)
    assert not waited_too_long(T0, None, T0 + timedelta(seconds=1.7), 0.0005)


def test_reopen_window() -> None:
    assert can_reopen(T0, T0 + timedelta(hours=72), 72)
    assert not can_reopen(T0, T0 + timedelta(hours=72, seconds=1), 72)
    assert not can_reopen(None, T0, 72)


def test_all_reasons_together_and_alert_once() -> None:
    facts = CaseFacts(
        consecutive_customer_messages=3,
        last_customer_at=T0,
        last_agent_at=None,
        text="EMERGENCY",
    )
    found = escalation_reasons(facts, T0 + timedelta(hours=48), RulesConfig())
    assert found == {
        EscalationReason.FOLLOWUPS,
        EscalationReason.KEYWORD,
        EscalationReason.INACTIVITY,
    }
    assert new_reasons(found, ["keyword"]) == ["followups", "inactivity"]
    assert new_reasons(found, [r.value for r in found]) == []


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (0.0, "low"),
        (0.29, "low"),
        (0.3, "medium"),
        (0.6, "high"),
        (0.8, "high"),
        (0.81, "critical"),
        (1.0, "critical"),
    ],
)
def test_urgency_labels_at_their_edges(score: float, label: str) -> None:
    assert urgency_label(score) == label


@given(st.floats(0, 1), st.floats(0, 1))
def test_a_higher_score_never_gets_a_lower_label(a: float, b: float) -> None:
    order = ["low", "medium", "high", "critical"]
    low, high = sorted((a, b))
    assert order.index(urgency_label(low)) <= order.index(urgency_label(high))
    assert (urgency_label(high) == "critical") == (high > URGENCY_ESCALATES_ABOVE)

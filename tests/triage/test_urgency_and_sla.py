"""Urgency from local signals and the SLA rule, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.rules import (
    DEFAULT_URGENT_KEYWORDS,
    CaseFacts,
    EscalationReason,
    RulesConfig,
    escalation_reasons,
    sla_breached,
)
from services.triage.urgency import local_urgency

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "priority", "followups", "expected"),
    [
        ("where is my card", 1, 1, 0.0),
        ("someone used my card", 5, 1, 0.5),
        ("URGENT someone used my card", 5, 1, 0.85),
        ("urgent: where is my card", 1, 1, 0.35),
        ("where is my card??", 1, 3, 0.2),
        ("critical, immediately!", 5, 9, 1.0),
    ],
)
def test_local_urgency(text: str, priority: int, followups: int, expected: float) -> None:
    score, why = local_urgency(
        text, priority=priority, keywords=DEFAULT_URGENT_KEYWORDS, followups=followups
    )
    assert score == pytest.approx(expected)
    assert f"priority {priority}" in why


@given(st.text(), st.integers(-5, 10), st.integers(-3, 50))
def test_urgency_is_always_between_zero_and_one(text: str, priority: int, followups: int) -> None:
    score, _ = local_urgency(
        text, priority=priority, keywords=DEFAULT_URGENT_KEYWORDS, followups=followups
    )
    assert 0.0 <= score <= 1.0


def test_the_sla_is_for_the_first_answer() -> None:
    due = NOW - timedelta(minutes=1)
    assert sla_breached(due, None, NOW)
    assert sla_breached(NOW, None, NOW)  # due now is breached
    assert not sla_breached(NOW + timedelta(seconds=1), None, NOW)
    assert not sla_breached(due, NOW - timedelta(hours=2), NOW)  # answered, even early
    assert not sla_breached(None, None, NOW)  # untriaged cases have no SLA


def facts(**changes: object) -> CaseFacts:
    values: dict[str, object] = {
        "consecutive_customer_messages": 1,
        "last_customer_at": NOW,
        "last_agent_at": None,
    }
    values.update(changes)
    return CaseFacts(**values)  # type: ignore[arg-type]


def test_urgency_above_point_eight_is_its_own_reason() -> None:
    config = RulesConfig()
    assert EscalationReason.URGENCY in escalation_reasons(facts(urgency=0.81), NOW, config)
    assert EscalationReason.URGENCY not in escalation_reasons(facts(urgency=0.8), NOW, config)
    late = facts(sla_due_at=NOW - timedelta(minutes=5))
    assert escalation_reasons(late, NOW, config) == {EscalationReason.SLA}

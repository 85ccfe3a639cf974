"""A report's contents: which cases it lists, how each is shown, in what order, and the
counts by category. Reads cases in pages; everything else is pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from storage import report_queries
from storage.engine import SessionFactory
from storage.models import Case, CaseStatus, Customer, Rating

PAGE_SIZE = 500
UNTRIAGED = "(untriaged)"


@dataclass(frozen=True)
class ReportRow:
    """One case as the report lists it (times aware UTC)."""

    number: int
    status: str
    subject: str
    customer: str
    channel: str
    category: str | None
    request_type: str | None
    urgency: float
    escalated: bool
    escalation_reasons: tuple[str, ...]
    assignee: str | None
    opened: datetime
    last_activity: datetime
    sla_due: datetime | None
    sla_breached: bool
    age_days: float
    master: int | None = None
    card_channel: str | None = None  # where the case's card is in Slack, for links
    card_ts: str | None = None
    rating: int | None = None  # the customer's, 1-5, once they answered
    rating_comment: str | None = None
    # The queue's order among active cases (escalated, urgency, SLA due, age).
    sort_key: tuple[Any, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class CategoryCount:
    category: str
    open: int = 0
    resolved: int = 0
    closed: int = 0


HIGHLIGHTS = 25  # open cases named (and linked) in a report mail's body


@dataclass(frozen=True)
class ReportData:
    """Everything the file shows, in order."""

    generated_at: datetime
    window_days: float
    rows: tuple[ReportRow, ...]
    categories: tuple[CategoryCount, ...]

    @property
    def active(self) -> int:
        return sum(1 for row in self.rows if row.status in _ACTIVE)

    def highlights(self, limit: int = HIGHLIGHTS) -> list[dict[str, Any]]:
        """The first open cases by priority, for the mail's body (the file has them all)."""
        return [
            {
                "number": row.number,
                "subject": row.subject,
                "status": row.status,
                "escalated": row.escalated,
                "sla_breached": row.sla_breached,
                "card_channel": row.card_channel,
                "card_ts": row.card_ts,
            }
            for row in self.rows[:limit]
            if row.status in _ACTIVE
        ]

    def summary(self) -> str:
        """`12 open case(s), 3 resolved or closed in the last 7 days, 2 past their SLA`."""
        breached = sum(1 for row in self.rows if row.sla_breached and row.status in _ACTIVE)
        return (
            f"{self.active} open case(s), {len(self.rows) - self.active} resolved or closed in "
            f"the last {self.window_days:g} day(s), {breached} open past its SLA"
        )


_ACTIVE = (CaseStatus.OPEN.value, CaseStatus.ASSIGNED.value)


def sla_breached(case: Case, now: datetime) -> bool:
    """The catalog SLA (a first answer by the due time) was missed, or is being missed."""
    if case.sla_due_at is None:
        return False
    if case.sla_alerted_at is not None:  # the escalation sweep saw it
        return True
    if case.last_agent_message_at is not None:
        return case.last_agent_message_at > case.sla_due_at
    ended = case.resolved_at if case.status == CaseStatus.RESOLVED else case.closed_at
    until = now if case.is_active or ended is None else ended
    return case.sla_due_at <= until


def priority_key(case: Case) -> tuple[Any, ...]:
    """storage.queries.queue_order in Python: escalated, urgency, SLA due (none last), age."""
    due = case.sla_due_at
    return (
        0 if case.escalation_level > 0 else 1,
        -case.urgency,
        1 if due is None else 0,
        due.timestamp() if due is not None else 0.0,
        case.created_at.timestamp(),
        case.number,
    )


def report_row(
    case: Case, customer: Customer, now: datetime, rating: Rating | None = None
) -> ReportRow:
    """How the report shows one case."""
    contact = customer.email or customer.phone or customer.slack_user_id or ""
    who = f"{customer.name} <{contact}>" if customer.name and contact else customer.name or contact
    activity = [
        t for t in (case.last_customer_message_at, case.last_agent_message_at) if t is not None
    ]
    return ReportRow(
        number=case.number,
        status=case.status.value,
        subject=case.subject,
        customer=who,
        channel=case.source,
        category=case.category,
        request_type=case.request_type,
        urgency=case.urgency,
        escalated=case.escalation_level > 0,
        escalation_reasons=tuple(case.escalation_reasons),
        assignee=case.assignee,
        opened=case.created_at,
        last_activity=max(activity) if activity else case.created_at,
        sla_due=case.sla_due_at,
        sla_breached=sla_breached(case, now),
        age_days=max((now - case.created_at).total_seconds(), 0.0) / 86400,
        master=case.master_id,
        card_channel=case.card_channel,
        card_ts=case.card_ts,
        rating=rating.score if rating is not None else None,
        rating_comment=rating.comment if rating is not None else None,
        sort_key=priority_key(case),
    )


def ordered(rows: Sequence[ReportRow]) -> tuple[ReportRow, ...]:
    """Active cases first by the queue's priority, then the resolved and closed ones by it."""
    return tuple(sorted(rows, key=lambda row: (row.status not in _ACTIVE, row.sort_key)))


def category_counts(rows: Sequence[ReportRow]) -> tuple[CategoryCount, ...]:
    """Open, resolved and closed cases per category, the busiest first."""
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        column = "open" if row.status in _ACTIVE else row.status
        counts.setdefault(row.category or UNTRIAGED, Counter())[column] += 1
    return tuple(
        CategoryCount(name, c["open"], c["resolved"], c["closed"])
        for name, c in sorted(counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    )


async def gather(
    sessions: SessionFactory,
    *,
    now: datetime,
    window_days: float,
    page_size: int = PAGE_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> ReportData:
    """Read the listed cases in pages of `page_size` (one short read each); `progress` hears
    (cases read so far, cases to read) after each page."""
    since = now - timedelta(days=window_days)
    async with sessions() as session:
        numbers = await report_queries.report_case_ids(session, since)
    rows: list[ReportRow] = []
    for start in range(0, len(numbers), page_size):
        async with sessions() as session:
            page = await report_queries.cases_with_customers(
                session, numbers[start : start + page_size]
            )
        rows.extend(report_row(case, customer, now, rating) for case, customer, rating in page)
        if progress is not None:
            progress(len(rows), len(numbers))
    return ReportData(
        generated_at=now,
        window_days=window_days,
        rows=ordered(rows),
        categories=category_counts(rows),
    )


async def listed(sessions: SessionFactory, *, now: datetime, window_days: float) -> int:
    """How many cases a report as of `now` lists (for a progress bar)."""
    async with sessions() as session:
        return await report_queries.count_report_cases(session, now - timedelta(days=window_days))

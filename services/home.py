"""What an agent's App Home shows, read in one go: their cases, the top of the queue, SLAs
about to break, today's numbers (UTC day) and this week's customer ratings."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage import home_queries, queries
from storage.engine import SessionFactory
from storage.models import Case, utcnow

DUE_SOON = timedelta(hours=4)  # "due soon": the first answer is due within this (or overdue)
SHOWN = 10  # cases per list; App Home is a glance, /queue and /case find go further


@dataclass(frozen=True)
class Today:
    opened: int
    resolved: int
    median_first_response: timedelta | None  # None: nobody was answered yet today
    rating_average: float | None = None  # customers' ratings this week (since Monday, UTC)
    ratings: int = 0
    suggestions: tuple[int, int, int] = (0, 0, 0)  # this week: as drafted, edited, discarded


@dataclass(frozen=True)
class AgentHome:
    mine: Sequence[Case]
    queue: Sequence[Case]
    due_soon: Sequence[Case]
    today: Today
    now: datetime


class Dashboard:
    """Reads for App Home; nothing here writes."""

    def __init__(self, sessions: SessionFactory, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._clock = clock

    async def agent_home(self, agent: str) -> AgentHome:
        now = self._clock()
        midnight = datetime(now.year, now.month, now.day, tzinfo=UTC)
        async with self._sessions() as session:
            mine = await queries.queue(session, limit=SHOWN, assignee=agent)
            queue = await queries.queue(session, limit=SHOWN, unassigned_only=True)
            due = await home_queries.sla_due_before(session, now + DUE_SOON, limit=SHOWN)
            opened = await home_queries.opened_since(session, midnight)
            resolved = await home_queries.resolved_since(session, midnight)
            waits = await home_queries.first_responses_since(session, midnight)
            monday = midnight - timedelta(days=midnight.weekday())
            average, rated = await home_queries.ratings_since(session, monday)
            suggested = await home_queries.suggestions_since(session, monday)
        return AgentHome(
            mine=mine,
            queue=queue,
            due_soon=due,
            today=Today(opened, resolved, median(waits), average, rated, suggested),
            now=now,
        )


def median(durations: Sequence[timedelta]) -> timedelta | None:
    """The median duration, or None for none."""
    if not durations:
        return None
    return timedelta(seconds=statistics.median(d.total_seconds() for d in durations))

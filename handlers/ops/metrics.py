"""`GET /metrics`: Prometheus text format, from a registry of this runtime's own.

Totals that every process must agree on (cases opened and closed, escalations by reason,
the outbox) are read from the database at scrape time, so any process of several on one
PostgreSQL answers the same. What only this process sees is counted in memory: failed
delivery attempts by outbox kind, triage latency by classifier, Socket Mode reconnects
(Prometheus sums those over the processes).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from storage.engine import SessionFactory
from storage.metrics_queries import Snapshot, read_snapshot
from storage.models import CaseStatus, utcnow

log = logging.getLogger(__name__)

PATH = "/metrics"
SCRAPE_TIMEOUT_SECONDS = 5.0
# Triage is 10 to 20 ms on the local model, about a second with Claude, up to its timeout.
TRIAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class DatabaseCollector(Collector):
    """Yields the last snapshot; `Metrics.render` refreshes it before each scrape."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        yield GaugeMetricFamily(
            "casebot_database_up", "1 when the database answered this scrape", value=int(snap.up)
        )
        if not snap.up:
            return
        yield CounterMetricFamily("casebot_cases_opened", "Cases ever opened", value=snap.opened)
        yield CounterMetricFamily("casebot_cases_closed", "Cases closed", value=snap.closed)
        statuses = GaugeMetricFamily("casebot_cases", "Cases by status now", labels=["status"])
        for status in CaseStatus:
            statuses.add_metric([status.value], snap.by_status.get(status.value, 0))
        yield statuses
        escalations = CounterMetricFamily(
            "casebot_escalations", "Escalations alerted, by reason", labels=["reason"]
        )
        for reason, n in sorted(snap.escalations.items()):
            escalations.add_metric([reason], n)
        yield escalations
        yield GaugeMetricFamily(
            "casebot_outbox_pending", "Outbox rows not delivered yet", value=snap.outbox_pending
        )
        yield GaugeMetricFamily(
            "casebot_outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered outbox row (0 when none)",
            value=snap.outbox_oldest_seconds,
        )
        yield GaugeMetricFamily(
            "casebot_outbox_dead",
            "Outbox rows given up after the maximum attempts",
            value=snap.outbox_dead,
        )
        yield GaugeMetricFamily(
            "casebot_tickets_waiting",
            "Tickets accepted by POST /tickets and not filed yet",
            value=snap.tickets_waiting,
        )
        yield GaugeMetricFamily(
            "casebot_tickets_failed",
            "Tickets given up after the maximum attempts",
            value=snap.tickets_failed,
        )


class Metrics:
    """This runtime's registry: several runtimes in one process (tests) never clash."""

    def __init__(self, sessions: SessionFactory, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._clock = clock
        self.registry = CollectorRegistry()
        self._database = DatabaseCollector()
        self.registry.register(self._database)
        self.delivery_failures = Counter(
            "casebot_delivery_failures",
            "Failed delivery attempts by outbox kind (this process)",
            ["kind"],
            registry=self.registry,
        )
        self.triage_seconds = Histogram(
            "casebot_triage_seconds",
            "Time to classify a new case's text, by classifier (this process)",
            ["source"],
            buckets=TRIAGE_BUCKETS,
            registry=self.registry,
        )
        self.socket_mode_reconnects = Counter(
            "casebot_socket_mode_reconnects",
            "Socket Mode connections opened after the first (this process)",
            registry=self.registry,
        )
        self._lock = asyncio.Lock()

    def delivery_failed(self, kind: str) -> None:
        self.delivery_failures.labels(kind=kind).inc()

    def triaged(self, source: str, seconds: float) -> None:
        self.triage_seconds.labels(source=source).observe(seconds)

    def count_reconnects(self, client: Any) -> None:
        """Wrap a Socket Mode client's `connect` (slack_sdk calls it for every reconnect)."""
        connect: Callable[[], Awaitable[None]] = client.connect
        connects = 0

        @functools.wraps(connect)
        async def counted() -> None:
            nonlocal connects
            await connect()
            session = getattr(client, "current_session", None)
            if session is not None and not session.closed and not client.closed:
                connects += 1
                if connects > 1:
                    self.socket_mode_reconnects.inc()

        client.connect = counted

    async def render(self) -> bytes:
        """Read the database (bounded), then the text format of everything."""
        async with self._lock:  # concurrent scrapes share one read at a time
            try:
                async with asyncio.timeout(SCRAPE_TIMEOUT_SECONDS):
                    snapshot = await read_snapshot(self._sessions, self._clock())
            except Exception as error:  # the scrape still answers, with casebot_database_up 0
                log.warning("metrics: the database did not answer: %r", error)
                snapshot = Snapshot(up=False)
            self._database.snapshot = snapshot
            return bytes(generate_latest(self.registry))


def register(router: web.UrlDispatcher, metrics: Metrics) -> None:
    async def handle(_request: web.Request) -> web.Response:
        body = await metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    router.add_get(PATH, handle)

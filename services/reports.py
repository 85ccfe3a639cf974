"""Reports: open and recently closed cases as an XLSX file, mailed and shared through the outbox.

The file is built when the report is recorded, not when it is delivered, and kept with it:

- a report is a snapshot of one moment (a schedule's slot, an agent's request); a delivery
  retried after two hours of SMTP outage still sends the 08:00 report, not a different one;
- every recipient, every retry and the agent's DM get the same bytes;
- building reads every listed case, which can take seconds on a large database: that work
  stays with the caller (the scheduled job, the command's listener) and off the outbox
  dispatcher, whose deliveries have a time limit and hold back nothing else while they run.

The price is the file's bytes in the `reports` table (tens of kilobytes per thousand cases).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, update

from services.audit import audit
from services.errors import DomainError
from services.outbox import OutboxKind
from services.report_data import ReportData, gather
from services.report_workbook import build_workbook
from services.types import Actor, Channel
from storage import report_queries
from storage.engine import SessionFactory
from storage.models import OutboxItem, Report, utcnow


@dataclass(frozen=True)
class ReportConfig:
    """Who gets reports by email, and how far back closed and resolved cases are listed."""

    recipients: tuple[str, ...] = ()
    window_days: float = 7.0
    retention_days: float = 90.0  # reports (and their files) older than this are deleted


def filename(at: datetime) -> str:
    return f"casebot-report-{at:%Y%m%d-%H%M}.xlsx"


class ReportService:
    """Records reports (once per key) with their file and the deliveries they need."""

    def __init__(
        self,
        sessions: SessionFactory,
        config: ReportConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock
        self._notify = notify

    @property
    def recipients(self) -> tuple[str, ...]:
        return self._config.recipients

    async def prune(self) -> int:
        """A sweep: delete reports older than the retention whose deliveries are all settled
        (a report still waiting for SMTP keeps its file). Returns how many were deleted."""
        before = self._clock() - timedelta(days=self._config.retention_days)
        async with self._sessions() as session, session.begin():
            pruned = await report_queries.prune_reports(session, before=before)
            if pruned:
                audit(
                    session,
                    None,
                    "reports.pruned",
                    "casebot",
                    count=pruned,
                    before=before.isoformat(),
                )
        return pruned

    async def build(self, now: datetime) -> tuple[ReportData, bytes]:
        """The report as of `now`; the workbook is written in a thread (it holds the CPU)."""
        data = await gather(self._sessions, now=now, window_days=self._config.window_days)
        return data, await asyncio.to_thread(build_workbook, data)

    async def scheduled(self, slot: datetime, *, now: datetime | None = None) -> Report | None:
        """Record and queue the report of a schedule's `slot` as of `now` (the clock's by
        default), unless it was already (by any process): None then."""
        key = slot_key(slot)
        async with self._sessions() as session:
            if await report_queries.report_by_key(session, key) is not None:
                return None  # the common case of a second process: nothing is built
        if not self._config.recipients:
            return None
        data, content = await self.build(now or self._clock())
        return await self._record(
            key=key, trigger="schedule", actor=None, data=data, content=content
        )

    async def request(self, actor: Actor, *, request_id: str | None = None) -> Report:
        """An agent's `/case report`: mailed to the recipients and shared in the agent's DM.
        `request_id` (Slack's trigger id) makes a redelivered request a no-op."""
        if not actor.is_agent:
            raise DomainError("Only support agents can ask for a report.")
        key = f"request:{request_id or uuid.uuid4().hex}"[:100]
        async with self._sessions() as session:
            if (known := await report_queries.report_by_key(session, key)) is not None:
                return known
        data, content = await self.build(self._clock())
        report = await self._record(
            key=key, trigger="request", actor=actor, data=data, content=content
        )
        if report is None:  # the same request, recorded meanwhile by a redelivery
            async with self._sessions() as session:
                known = await report_queries.report_by_key(session, key)
            assert known is not None
            return known
        return report

    async def _record(
        self,
        *,
        key: str,
        trigger: str,
        actor: Actor | None,
        data: ReportData,
        content: bytes,
    ) -> Report | None:
        """The report row and its outbox rows in one transaction; None if `key` is taken."""
        recipients = list(self._config.recipients)
        try:
            async with self._sessions() as session, session.begin():
                report = Report(
                    key=key,
                    trigger=trigger,
                    requested_by=actor.id if actor else None,
                    recipients=recipients,
                    filename=filename(data.generated_at),
                    content=content,
                    case_count=len(data.rows),
                    created_at=data.generated_at,
                )
                session.add(report)
                await session.flush()  # the unique key decides here, before anything else
                assert report.id is not None
                for recipient in recipients:
                    session.add(
                        _delivery(
                            report.id,
                            OutboxKind.REPORT_EMAIL,
                            mail_stream(recipient),
                            to=recipient,
                            summary=data.summary(),
                            cases=data.highlights(),
                        )
                    )
                if actor is not None:
                    session.add(
                        _delivery(
                            report.id,
                            OutboxKind.REPORT_UPLOAD,
                            "dm",
                            user=actor.id,
                            summary=data.summary(),
                        )
                    )
                audit(
                    session,
                    None,
                    "report.queued",
                    actor.id if actor else "casebot",
                    report_id=report.id,
                    key=key,
                    cases=len(data.rows),
                    recipients=recipients,
                )
        except IntegrityError:
            async with self._sessions() as session:
                if await report_queries.report_by_key(session, key) is None:
                    raise  # not the key: a real error
            return None
        self._notify()
        return report

    async def get(self, report_id: int) -> Report:
        """One recorded report with its file."""
        async with self._sessions() as session:
            report = await session.get(Report, report_id)
        if report is None:
            raise LookupError(f"report {report_id} does not exist")
        return report

    async def mark_delivered(self, report_id: int, kind: OutboxKind) -> None:
        """Note the first mail accepted (sent_at) or the upload made (uploaded_at)."""
        column = Report.sent_at if kind == OutboxKind.REPORT_EMAIL else Report.uploaded_at
        async with self._sessions() as session, session.begin():
            await session.exec(
                update(Report)
                .where(col(Report.id) == report_id, col(column).is_(None))
                .values({column: self._clock()})
            )


def slot_key(slot: datetime) -> str:
    """`cron:2026-11-24T08:00Z`: one key per slot, in UTC whatever zone the schedule uses."""
    return f"cron:{slot.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def mail_stream(recipient: str) -> str:
    """One ordering key per recipient across reports: the reports pending for one address
    (after an SMTP outage, say) go out in order, and together as one mail."""
    digest = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:24]
    return f"report-mail:{digest}"


def _delivery(report_id: int, kind: OutboxKind, stream: str, **payload: Any) -> OutboxItem:
    key = stream if kind == OutboxKind.REPORT_EMAIL else f"report:{report_id}:{stream}"
    return OutboxItem(
        kind=kind.value,
        channel=Channel.EMAIL if kind == OutboxKind.REPORT_EMAIL else Channel.SLACK,
        ordering_key=key,
        payload={"report_id": report_id, **payload},
    )

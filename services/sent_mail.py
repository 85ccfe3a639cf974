"""What we sent by email: threads replies and bounces to their case, and caps automatic mail.

A mail loop with another robot, a flood of cases from one address, or forged senders by the
hundred must not make us a spam cannon: automatic mail (acknowledgements, reminders,
resolution notices, nudges) is capped per hour per address (`carol+anything@` is `carol@`)
and in all. The acknowledgement of a sender our receiving server did not authenticate is
also capped per domain: a forger can write as anyone@victim, but cannot pass DMARC for
victim, so an outage that makes every real customer of one provider write at once is
never cut off where a flood of forgeries is. An agent's reply is never capped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.audit import audit
from storage import mail_queries
from storage.engine import SessionFactory
from storage.group_commit import GroupCommit
from storage.models import SentEmail, utcnow
from storage.queries import is_postgres

MAIL_CAP_LOCK = 7_420_002  # pg_advisory_xact_lock key: automatic mails counted one at a time


@dataclass(frozen=True)
class MailCaps:
    """Automatic mails per hour, at most: to one address, to one domain, to anyone."""

    per_address: int = 5
    per_domain: int = 50  # only acknowledgements of senders nobody authenticated
    total: int = 5000


def capped_as(address: str) -> tuple[str, str]:
    """(the address the caps count, its domain): lower case, without a `+tag`."""
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}", domain


class SentMail:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        clock: Callable[[], datetime] = utcnow,
        reads: SessionFactory | None = None,
    ) -> None:
        self._sessions = sessions
        self._reads = reads if reads is not None else sessions  # beside the writer on SQLite
        self._clock = clock
        # One transaction at a time, its reservations one after another: concurrent
        # deliveries cannot all slip under a cap.
        self._reservations = GroupCommit(sessions)

    async def record(
        self, *, case_id: int, message_id: str, recipient: str, kind: str, automatic: bool
    ) -> None:
        """Remember a sent mail; recording the same Message-ID again (a retry) is a no-op."""
        try:
            async with self._sessions() as session, session.begin():
                if await mail_queries.sent_email(session, message_id) is not None:
                    return
                session.add(self._row(case_id, message_id, recipient, kind, automatic=automatic))
        except IntegrityError:
            return  # another process recorded it first

    async def reserve(
        self,
        *,
        case_id: int,
        message_id: str,
        recipient: str,
        kind: str,
        caps: MailCaps,
        per_domain: bool = True,
    ) -> str | None:
        """Count one more automatic mail to `recipient` before it is sent, or say why it
        would be too many this hour. Counting and recording are one step (per process), so
        concurrent deliveries cannot all slip under a cap; a mail already counted (a retry)
        is not counted again. `release` gives back a reservation whose mail did not go.
        `per_domain=False` spares the mail the domain cap (its sender was authenticated).
        Reservations made together share a transaction (storage/group_commit.py)."""

        async def count_and_record(session: AsyncSession) -> str | None:
            if is_postgres(session):  # ... and across processes on one PostgreSQL
                lock = text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=MAIL_CAP_LOCK)
                await session.exec(lock)  # type: ignore[call-overload]
            if await mail_queries.sent_email(session, message_id) is not None:
                return None
            reason = await self._over(session, recipient, caps, per_domain=per_domain)
            if reason is None:
                session.add(self._row(case_id, message_id, recipient, kind, automatic=True))
            return reason

        return await self._reservations.run(count_and_record)

    async def release(self, message_id: str) -> None:
        async with self._sessions() as session, session.begin():
            row = await mail_queries.sent_email(session, message_id)
            if row is not None:
                await session.delete(row)

    async def over_cap(
        self, recipient: str, caps: MailCaps, *, per_domain: bool = True
    ) -> str | None:
        """Why one more automatic mail to `recipient` would be too many this hour, or None."""
        async with self._sessions() as session:
            return await self._over(session, recipient, caps, per_domain=per_domain)

    async def _over(
        self, session: AsyncSession, recipient: str, caps: MailCaps, *, per_domain: bool
    ) -> str | None:
        since = self._clock() - timedelta(hours=1)
        counted, domain = capped_as(recipient)
        count = mail_queries.automatic_sent_since
        if await count(session, since, capped_as=counted) >= caps.per_address:
            return f"more than {caps.per_address} automatic mails to {counted} in an hour"
        if per_domain and await count(session, since, domain=domain) >= caps.per_domain:
            return f"more than {caps.per_domain} automatic mails to @{domain} in an hour"
        if await count(session, since) >= caps.total:
            return f"more than {caps.total} automatic mails in all in an hour"
        return None

    def _row(
        self, case_id: int, message_id: str, recipient: str, kind: str, *, automatic: bool
    ) -> SentEmail:
        counted, domain = capped_as(recipient)
        return SentEmail(
            message_id=message_id,
            case_id=case_id,
            recipient=recipient.lower(),
            capped_as=counted,
            domain=domain,
            kind=kind,
            automatic=automatic,
            sent_at=self._clock(),
        )

    async def skipped(self, *, case_id: int, kind: str, recipient: str, reason: str) -> None:
        """Keep a record of an automatic mail we chose not to send."""
        async with self._sessions() as session, session.begin():
            audit(
                session,
                case_id,
                "email.suppressed",
                "casebot",
                kind=kind,
                to=recipient,
                reason=reason,
            )

    async def thread(self, case_id: int, source: str) -> list[tuple[str, bool]]:
        """The case's Message-IDs, oldest first, each with "is it ours": for threading."""
        async with self._reads() as session:
            return await mail_queries.thread_ids(session, case_id, source)

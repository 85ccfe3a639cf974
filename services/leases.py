"""Leases in the shared database: which process is alive, and which one runs a singleton.

Several `casebot run` processes may share one PostgreSQL. Each holds `instance:<id>` and
renews it (its heartbeat); a process that dies stops renewing, and within one TTL the
others treat it as gone: they take over its mailbox, its outbox rows and its Slack events.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from storage import lease_queries
from storage.engine import SessionFactory
from storage.models import utcnow


def new_holder() -> str:
    """A name for this process, unique across hosts and restarts, readable in the table."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    """This process's claims. Every method is one short transaction."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        holder: str | None = None,
        ttl: timedelta = timedelta(seconds=15),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.holder = holder or new_holder()
        self.ttl = ttl
        self._clock = clock

    async def claim(self, name: str) -> bool:
        """Take or renew `name` for one TTL; False while another live process holds it."""
        async with self._sessions() as session, session.begin():
            return await lease_queries.claim(
                session, name, self.holder, now=self._clock(), ttl=self.ttl
            )

    async def release(self, name: str) -> None:
        async with self._sessions() as session, session.begin():
            await lease_queries.release(session, name, self.holder)

    async def holder_of(self, name: str) -> str | None:
        async with self._sessions() as session:
            return await lease_queries.holder_of(session, name, now=self._clock())

    async def heartbeat(self) -> bool:
        """Say this process is alive for one more TTL."""
        return await self.claim(lease_queries.instance_lease(self.holder))

    async def retire(self) -> None:
        """An orderly stop: this process is gone now, not one TTL from now."""
        await self.release(lease_queries.instance_lease(self.holder))

    async def take_event(self, event_id: str) -> bool:
        """True if this process should handle Slack event `event_id` (nobody alive has)."""
        async with self._sessions() as session, session.begin():
            return await lease_queries.take_event(session, event_id, self.holder, now=self._clock())

    async def tidy(self, *, keep_events: timedelta = timedelta(days=1)) -> int:
        """Forget old event ids and long-expired leases; returns rows removed."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            events = await lease_queries.forget_events(session, now - keep_events)
            leases = await lease_queries.forget_expired(session, now - keep_events)
        return events + leases

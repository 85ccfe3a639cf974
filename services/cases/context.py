"""What every part of the case service shares: the sessions, the rules, the clock, one
transaction helper that wakes the outbox after a commit, and the agent check."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.audit import audit
from services.errors import CaseNotFound, NotAllowed
from services.rules import RulesConfig
from services.storms import StormConfig
from services.transitions import Action
from services.triage.service import Triager
from services.types import Actor
from storage import queries
from storage.engine import SessionFactory
from storage.models import Case, utcnow


@dataclass(frozen=True)
class CaseContext:
    sessions: SessionFactory
    rules: RulesConfig
    clock: Callable[[], datetime] = utcnow
    notify: Callable[[], None] = field(default=lambda: None)  # wakes the outbox runner
    triage: Triager | None = None
    storms: StormConfig | None = None
    sync_tickets: bool = False  # new cases go to the external ticket system
    # sessions for plain reads (storage.engine.create_read_session_factory); none: `sessions`
    read_sessions: SessionFactory | None = None

    @property
    def reads(self) -> SessionFactory:
        """Sessions for a read that writes nothing: beside the writer on SQLite."""
        return self.read_sessions if self.read_sessions is not None else self.sessions

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction; the outbox runner is woken once it has committed."""
        async with self.sessions() as session, session.begin():
            yield session
        self.notify()

    async def require_agent(self, actor: Actor, action: Action, case_id: int | None) -> None:
        """Refuse non-agents, keeping a record of the attempt."""
        if actor.is_agent:
            return
        async with self.transaction() as session:
            exists = case_id is not None and await queries.get_case(session, case_id) is not None
            audit(
                session,
                case_id if exists else None,
                "refused",
                actor.label,
                action=action.value,
                user_id=actor.id,
                case=case_id,
            )
        raise NotAllowed(action.value)


async def load(session: AsyncSession, case_id: int, *, lock: bool = True) -> Case:
    """The case, locked for the rest of the transaction unless this is a plain read."""
    case = await queries.get_case(session, case_id, lock=lock)
    if case is None:
        raise CaseNotFound(case_id)
    return case

"""Routing: a new case goes to the least-loaded agent who has its request type's skills.

Agents come from `AGENTS_PATH` (YAML, loaded at start) and `/case agent …`. An agent at
capacity, inactive, or missing one of the skills is passed over; nobody suitable leaves the
case unassigned in the queue, where `/queue next` takes the most urgent first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.errors import DomainError
from services.triage.catalog import Catalog, canonical
from services.validation import first_problem
from storage.agent_queries import active_agents, open_case_loads
from storage.engine import SessionFactory
from storage.models import Agent, utcnow


class AgentsError(DomainError):
    """A bad agents file or command: unknown skills, bad capacity, unreadable YAML."""


def choose(agents: Sequence[Agent], loads: Mapping[str, int], skills: Sequence[str]) -> str | None:
    """The active agent with every skill and room left, least loaded first (ties: user id)."""
    needed = {canonical(s) for s in skills}
    suitable = [
        a
        for a in agents
        if a.active and needed <= set(a.skills) and loads.get(a.user_id, 0) < a.capacity
    ]
    if not suitable:
        return None
    return min(suitable, key=lambda a: (loads.get(a.user_id, 0), a.user_id)).user_id


async def route(session: AsyncSession, skills: Sequence[str]) -> str | None:
    """The agent a new case needing `skills` should go to now, or None."""
    agents = await active_agents(session)
    if not agents:
        return None
    return choose(agents, await open_case_loads(session), skills)


class AgentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[UW][A-Z0-9]{2,31}$")
    name: str = ""
    skills: list[str] = Field(default_factory=list)
    capacity: int = Field(default=10, ge=0, le=1000)


class AgentsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agents: list[AgentSpec]


def read_agents_file(path: Path | str) -> AgentsFile:
    """The agents file (YAML: `agents: [{id, name, skills, capacity}]`), or one AgentsError."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return AgentsFile.model_validate(data)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise AgentsError(f"cannot read {path}: {error}") from None
    except ValidationError as error:
        raise AgentsError(f"{path}: {first_problem(error)}") from None


class AgentDirectory:
    """Routing profiles of agents, checked against the catalog's skills."""

    def __init__(self, sessions: SessionFactory, catalog: Catalog) -> None:
        self._sessions = sessions
        self.skills = sorted({s for rt in catalog.request_types for s in rt.skills})

    def check_skills(self, skills: Sequence[str]) -> list[str]:
        found = [canonical(s) for s in skills if s.strip()]
        unknown = sorted(set(found) - set(self.skills))
        if unknown:
            raise AgentsError(
                f"unknown skill(s) {', '.join(unknown)}; the catalog's: {', '.join(self.skills)}"
            )
        return sorted(set(found))

    async def load(self, spec: AgentsFile) -> int:
        """Add or update every agent of an agents file; returns how many."""
        for agent in spec.agents:
            await self.save(agent.id, skills=agent.skills, capacity=agent.capacity, name=agent.name)
        return len(spec.agents)

    async def save(
        self,
        user_id: str,
        *,
        skills: Sequence[str] | None = None,
        capacity: int | None = None,
        name: str | None = None,
    ) -> Agent:
        """Create or change an agent's profile (and make it active again)."""
        checked = self.check_skills(skills) if skills is not None else None
        if capacity is not None and not 0 <= capacity <= 1000:
            raise AgentsError("capacity must be between 0 and 1000")
        async with self._sessions() as session, session.begin():
            agent = await session.get(Agent, user_id) or Agent(user_id=user_id)
            if checked is not None:
                agent.skills = checked
            if capacity is not None:
                agent.capacity = capacity
            if name:
                agent.name = name[:200]
            agent.active = True
            agent.updated_at = utcnow()
            session.add(agent)
        return agent

    async def remove(self, user_id: str) -> bool:
        """Stop routing to the agent (their cases stay theirs); False if unknown."""
        async with self._sessions() as session, session.begin():
            agent = await session.get(Agent, user_id)
            if agent is None or not agent.active:
                return False
            agent.active = False
            agent.updated_at = utcnow()
            return True

    async def listing(self) -> list[tuple[Agent, int]]:
        """Active agents with their current load."""
        async with self._sessions() as session:
            agents = await active_agents(session)
            loads = await open_case_loads(session)
        return [(agent, loads.get(agent.user_id, 0)) for agent in agents]

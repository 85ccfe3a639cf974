"""Shared fixtures: databases on SQLite and (with TEST_POSTGRES_URL) PostgreSQL, a clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.cases import CaseService
from services.rules import RulesConfig
from storage.engine import SessionFactory, create_engine, create_session_factory
from storage.migrate import upgrade
from tests.db import BACKENDS, POSTGRES_URL, database_url


class Clock:
    """A settable clock for rules that depend on time."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


class Ticks:
    """A settable monotonic clock in seconds, for pacers, breakers and fault windows."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL not set")
    return str(request.param)


@pytest.fixture
async def db_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    async with database_url(backend, tmp_path) as url:
        await upgrade(url)
        yield url


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(db_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rules() -> RulesConfig:
    return RulesConfig()


@pytest.fixture
def service(sessions: SessionFactory, clock: Clock, rules: RulesConfig) -> CaseService:
    return CaseService(sessions, rules=rules, clock=clock)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked slow first, the rest in their usual order: with workers (pytest-xdist) a
    run ends when its last worker does, and a three-minute test drawn last would keep one
    busy long after the others are idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)

"""DATABASE_URL forms: the documents' synchronous ones get the async driver, others a reason."""

from __future__ import annotations

import re

import pytest

from storage.engine import async_url


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("sqlite:///./case_management.db", "sqlite+aiosqlite:///./case_management.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://user:pass@host/db", "postgresql+asyncpg://user:pass@host/db"),
        ("postgres://user:p%40ss@host:6543/db", "postgresql+asyncpg://user:p%40ss@host:6543/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_a_url_runs_with_the_async_driver(given: str, used: str) -> None:
    assert async_url(given) == used


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("postgresql+psycopg2://u@h/db", "the postgresql+psycopg2 driver is not supported"),
        ("mysql://u@h/db", "the mysql driver is not supported"),
        ("case_management.db", "not a database URL"),
    ],
)
def test_other_urls_are_refused_with_a_reason(given: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        async_url(given)

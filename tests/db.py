"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy import MetaData, Table, insert, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]


@asynccontextmanager
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated-nothing, empty database URL for `backend`; dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'casebot.db'}"
        return
    # Read now, not at import: a benchmark's --backend postgres sets it after importing this.
    server = os.environ.get("TEST_POSTGRES_URL")
    assert server, "TEST_POSTGRES_URL is not set"
    base = make_url(server)
    name = f"casebot_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def insert_as_of(engine: AsyncEngine, rows: Sequence[SQLModel]) -> None:
    """Insert model rows into the tables of an older revision: only the columns they had then.

    A migration test seeds the schema of the revision before the one it tests, while the
    models describe the newest; the model's own column types (and defaults) still apply.
    """
    async with engine.begin() as connection:
        for row in rows:
            model_table = row.__table__  # type: ignore[attr-defined]
            existing = await connection.run_sync(
                lambda sync, name=model_table.name: {
                    c["name"] for c in inspect(sync).get_columns(name)
                }
            )
            table = Table(
                model_table.name,
                MetaData(),
                *(c._copy() for c in model_table.columns if c.name in existing),
            )
            values = {k: v for k, v in row.model_dump().items() if k in existing}
            await connection.execute(insert(table), values)

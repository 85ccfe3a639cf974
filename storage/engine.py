"""The async engine and session factory for SQLite (default) or PostgreSQL."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

import storage.counters  # noqa: F401 - counts audited events in every session
from storage.sqlite_driver import async_creator


class SessionFactory(Protocol):
    """`async with sessions() as session:` — one unit of work."""

    def __call__(self) -> AbstractAsyncContextManager[AsyncSession]: ...


SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "casebot_read_only"  # an execution option: SQLite begins a deferred transaction


# The driver Casebot runs each database with, for URLs that name the database only (the
# seed documents' own `sqlite:///./case_management.db` and `postgresql://user:pass@host/db`).
ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def async_url(url: str) -> str:
    """`url` with the async driver Casebot uses; ValueError (one line) for anything else."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(
            "not a database URL: use sqlite:///./casebot.db or postgresql://user:pass@host/db"
        ) from None
    name = parsed.drivername
    if name in ASYNC_DRIVERS:
        parsed = parsed.set(drivername=ASYNC_DRIVERS[name])
    elif name not in ASYNC_DRIVERS.values():
        raise ValueError(
            f"the {name} driver is not supported: use sqlite:///… (or sqlite+aiosqlite:///…) "
            "or postgresql://… (or postgresql+asyncpg://…)"
        )
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    """True for a `sqlite+aiosqlite://` URL."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Build the engine; SQLite gets WAL, a busy timeout and `BEGIN IMMEDIATE` transactions.

    `BEGIN IMMEDIATE` makes concurrent writers queue on the busy timeout instead of failing
    with "database is locked" when a read transaction tries to upgrade to a write. SQLite
    connections come from `storage.sqlite_driver` (fewer thread hops per statement).
    """
    if not is_sqlite(url):
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)

    creator = async_creator(url, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_async_engine(url, async_creator=creator, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below own transactions
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

    return engine


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded objects usable after commit; queued in turn on SQLite."""
    factory = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    if engine.dialect.name == "sqlite":
        return SerialSessions(factory)
    return factory


def create_read_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions for reads that need no write lock (a listing, a lookup for a command).

    On SQLite they begin a deferred transaction on a connection of their own, outside
    `SerialSessions`: WAL lets readers run beside the one writer, so fifty `/queue` commands
    do not make a burst of intake wait behind their reads, nor the reads behind the burst.
    A read session that writes would fail on SQLite: use `create_session_factory` for that.
    """
    if engine.dialect.name == "sqlite":
        if engine.url.database in (None, "", ":memory:"):  # each connection its own database
            return create_session_factory(engine)
        engine = engine.execution_options(**{READ_ONLY: True})
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


class SerialSessions:
    """SQLite sessions one at a time per process, handed over at once.

    Every SQLite transaction here is BEGIN IMMEDIATE: one writer at a time in any case. A
    session that waits for SQLite's lock does so in its driver thread, in sleeps that grow
    to 100 ms; under a burst those waits, not the statements, were 98 % of intake time. An
    asyncio lock around the session hands over in microseconds. A session opened inside
    another by the same task goes straight to SQLite, as it did before (and other
    processes still meet SQLite's own lock and busy timeout).
    """

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None

    def __call__(self) -> _SerialSession:
        return _SerialSession(self)


class _SerialSession:
    def __init__(self, sessions: SerialSessions) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._locked = False

    async def __aenter__(self) -> AsyncSession:
        sessions, task = self._sessions, asyncio.current_task()
        if sessions._owner is not task or task is None:
            await sessions._lock.acquire()
            sessions._owner, self._locked = task, True
        try:
            self._session = await sessions._factory().__aenter__()
        except BaseException:
            self._release()
            raise
        return self._session

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            assert self._session is not None
            await self._session.__aexit__(kind, error, trace)
        finally:
            self._release()

    def _release(self) -> None:
        if self._locked:
            self._locked = False
            self._sessions._owner = None
            self._sessions._lock.release()

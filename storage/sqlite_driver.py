"""aiosqlite with one thread hop per query and none for a write that cannot wait.

aiosqlite runs every call on a worker thread: SQLAlchemy's adapter makes four of them per
statement (open a cursor, execute, fetch, close), and each hop hands the GIL between the
event loop, the worker and the encoder's threads. Under a burst of intake that handing over,
not SQLite, was most of the time: 90 hops per stored message (tests/bench/intake_and_acks).

Here a query and the reading of its rows are one hop; opening and closing a cursor are
none. A statement runs on the event loop itself only when it cannot wait or scan: inside a
transaction that already holds SQLite's write lock (every transaction here is
`BEGIN IMMEDIATE`), an `INSERT … VALUES`, a savepoint, or an `UPDATE`/`DELETE` of one row
by its id, as the ORM writes them. `BEGIN` (it waits for the lock), `COMMIT` (it may
checkpoint the WAL to disk) and every query stay on the worker thread, so a slow one never
stalls the loop.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

import aiosqlite
from aiosqlite.context import contextmanager
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url

T = TypeVar("T")

# A statement that touches a known row or adds one: microseconds, no lock to wait for.
_SHORT = re.compile(
    r"""\s*(?:
        SAVEPOINT\b | RELEASE\b | ROLLBACK\s+TO\b
      | INSERT\s+INTO\s+\S+\s*\([^()]*\)\s*VALUES\b(?!.*\bSELECT\b)
      | (?:UPDATE\s+\S+\s+SET|DELETE\s+FROM\s+\S+)\b[^;]*\bWHERE\s+\S+\.id\s*=\s*\?\s*$
    )""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


def runs_inline(sql: str, in_write_transaction: bool) -> bool:
    """Whether `sql` may run on the event loop: short, and the write lock already held."""
    return in_write_transaction and _SHORT.match(sql) is not None


def _run(cursor: sqlite3.Cursor, sql: str, parameters: Any) -> list[Any]:
    """Execute and read every row at once: the caller fetches them all anyway."""
    cursor.execute(sql, parameters)
    return cursor.fetchall() if cursor.description else []


class Cursor(aiosqlite.Cursor):
    """Rows are read with the statement; fetching and closing need no thread."""

    def __init__(self, conn: Connection, cursor: sqlite3.Cursor) -> None:
        super().__init__(conn, cursor)
        self._owner = conn
        self._rows: list[Any] = []

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        run = partial(_run, self._cursor, sql, [] if parameters is None else parameters)
        if runs_inline(sql, self._cursor.connection.in_transaction):
            self._rows = run()
        else:
            self._rows = await self._owner.on_worker(run)
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def close(self) -> None:
        self._rows = []
        self._cursor.close()


class Connection(aiosqlite.Connection):
    """aiosqlite's connection, handing out the cursors above."""

    async def on_worker(self, call: Callable[[], T]) -> T:
        """`call()` on the connection's worker thread."""
        result: T = await self._execute(call)  # type: ignore[no-untyped-call]
        return result

    @contextmanager
    async def cursor(self) -> Cursor:  # type: ignore[override]  # a subclass of aiosqlite's
        return Cursor(self, self._conn.cursor())


def async_creator(url: str, **connect_args: Any) -> Callable[[], Any]:
    """For `create_async_engine(async_creator=…)`: connections to the database at `url`.

    The sqlite3 connection is used from the worker thread and, for the short writes above,
    from the event loop; never from both at once, since SQLAlchemy awaits every call.
    """
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    kwargs = {**kwargs, **connect_args, "check_same_thread": False}

    async def connect() -> Connection:
        connection = Connection(partial(sqlite3.connect, *args, **kwargs), iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does: never hold the process open
        await connection
        return connection

    return connect

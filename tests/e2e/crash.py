"""For tests that kill real `casebot` processes: a read-only look at their database, polling with
the bots' logs on failure, starting one and waiting for its Socket Mode connection, and the
mail that is loaded into the mailbox before."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from aioimaplib import IMAP4
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox.emulator import SlackEmulator
from handlers.email.imap_client import ImapMailbox
from storage.models import MailCursor, Message, OutboxItem
from tests.e2e.bot_process import BotProcess, BotProcesses
from tests.e2e.mail import SUPPORT_EMAIL, authenticated
from tests.mail_servers import Dovecot

START_SECONDS = 30.0  # for one process to start reading mail

T = TypeVar("T")
log = logging.getLogger(__name__)


async def append_all(imap: Dovecot, mails: list[bytes]) -> None:
    """APPEND every mail over one connection (one login, not 200)."""
    client = IMAP4(host=imap.host, port=imap.port, timeout=10)
    try:
        await client.wait_hello_from_server()
        assert (await client.login(imap.user, imap.password)).result == "OK"
        for raw in mails:
            response = await client.append(raw, mailbox="INBOX")
            assert response.result == "OK", response.lines
    finally:
        await client.logout()


@asynccontextmanager
async def mailbox(imap: Dovecot) -> AsyncIterator[ImapMailbox]:
    box = ImapMailbox()
    await box.connect(imap.host, imap.port, imap.user, imap.password, ssl=False, timeout=10)
    try:
        await box.select("INBOX")
        yield box
    finally:
        await box.close()


class Database:
    """Read-only looks at the bot's database from the test process (short statements only).

    A plain engine, not `storage.engine.create_engine`: that one opens every SQLite
    transaction with BEGIN IMMEDIATE, i.e. takes the write lock the bot needs.
    """

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(url)

    async def read(self, query: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with AsyncSession(self.engine) as session:
            return await query(session)

    async def stored(self) -> int:
        async def count(session: AsyncSession) -> int:
            stmt = select(func.count()).select_from(Message).where(Message.source == "email")
            return int((await session.exec(stmt)).one())

        return await self.read(count)

    async def external_ids(self) -> list[str]:
        async def ids(session: AsyncSession) -> list[str]:
            stmt = select(Message.external_id).where(Message.source == "email")
            return [str(i) for i in (await session.exec(stmt)).all()]

        return await self.read(ids)

    async def outbox(self) -> Counter[str]:
        async def statuses(session: AsyncSession) -> Counter[str]:
            rows = (await session.exec(select(OutboxItem.status))).all()
            return Counter(str(status) for status in rows)

        return await self.read(statuses)

    async def cursor(self) -> int | None:
        async def last_uid(session: AsyncSession) -> int | None:
            row = (await session.exec(select(MailCursor))).first()
            return None if row is None else row.last_uid

        return await self.read(last_uid)


async def eventually(
    what: str,
    check: Callable[[], Awaitable[T | None]],
    *,
    deadline: float,
    bots: BotProcesses,
    interval: float = 0.02,
) -> T:
    """Poll `check` until it returns a truthy value; fail with the bots' logs at `deadline`."""
    started = time.monotonic()
    while True:
        value = await check()
        if value:
            log.info("%s: %.1f s", what, time.monotonic() - started)  # the test's timeline
            return value
        running = bots.started[-1] if bots.started else None
        if running is not None and not running.running:
            raise AssertionError(f"casebot exited while waiting for {what}\n{bots.logs()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{bots.logs()}")
        await asyncio.sleep(interval)


async def at_least(db: Database, count: int) -> int | None:
    stored = await db.stored()
    return stored if stored >= count else None


async def start(bots: BotProcesses, slack: SlackEmulator, deadline: float) -> BotProcess:
    before = slack.connections_total
    bot = await bots.start()
    start_deadline = min(deadline, time.monotonic() + START_SECONDS)

    async def connected() -> bool:
        return slack.connections_total > before

    await eventually(
        "the bot's Socket Mode connection", connected, deadline=start_deadline, bots=bots
    )
    return bot


def storm_mail(n: int) -> bytes:
    """Customer n's mail in an outage: real customers of one provider, so authenticated by
    our receiving server (run with `trusted_authserv_id=MX`: each must hear back)."""
    return (
        authenticated(f"storm{n:04d}@example.org")
        + f"From: Customer {n} <storm{n:04d}@example.org>\r\n"
        f"To: {SUPPORT_EMAIL}\r\n"
        "Subject: Checkout is down\r\n"
        f"Message-ID: <storm-{n:04d}@example.org>\r\n\r\n"
        f"The checkout page shows error 502 when I try to pay for order {n}.\r\n"
    ).encode()

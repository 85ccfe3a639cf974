"""ImapMailbox against a real Dovecot on loopback (skipped when dovecot is not installed)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.email.imap_client import ImapError, ImapMailbox
from tests.mail_servers import Dovecot, dovecot

TIMEOUT = 5.0


def _message(n: int) -> bytes:
    return (
        f"From: Customer {n} <customer{n}@example.org>\r\n"
        f"To: support@example.com\r\n"
        f"Subject: Printer on fire #{n}\r\n"
        f"Message-ID: <msg-{n}@example.org>\r\n"
        f"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
        f"\r\n"
        f"Hello, message {n}.\r\nSecond line.\r\n"
    ).encode()


def _crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Dovecot]:
    async with dovecot(tmp_path) as running:
        yield running


@pytest.fixture
async def mailbox(server: Dovecot) -> AsyncIterator[ImapMailbox]:
    box = ImapMailbox()
    await box.connect(
        server.host, server.port, server.user, server.password, ssl=False, timeout=TIMEOUT
    )
    try:
        yield box
    finally:
        await box.close()


async def test_select_reports_uidvalidity(mailbox: ImapMailbox) -> None:
    info = await mailbox.select("INBOX")
    assert info.uidvalidity > 0
    assert info.exists == 0
    assert info.uidnext == 1
    assert mailbox.supports_idle()


async def test_uids_after(server: Dovecot, mailbox: ImapMailbox) -> None:
    for n in range(3):
        await server.append(server.user, _message(n))
    info = await mailbox.select("INBOX")
    assert info.exists == 3
    uids = await mailbox.uids_after(0)
    assert len(uids) == 3
    assert uids == sorted(uids)
    # "UID n:*" with n beyond the last UID still matches the last message: filtered out.
    assert await mailbox.uids_after(uids[-1]) == []
    assert await mailbox.uids_after(uids[-1] + 10) == []
    assert await mailbox.uids_after(uids[0]) == uids[1:]


async def test_fetch_returns_exact_bytes_and_keeps_unseen(
    server: Dovecot, mailbox: ImapMailbox
) -> None:
    raw = _message(7)
    await server.append(server.user, raw)
    await mailbox.select("INBOX")
    (uid,) = await mailbox.uids_after(0)
    assert _crlf(await mailbox.fetch(uid)) == _crlf(raw)
    assert "\\Seen" not in await mailbox.flags(uid)

    await mailbox.mark_seen([uid])
    assert "\\Seen" in await mailbox.flags(uid)


async def test_fetch_unknown_uid_raises(mailbox: ImapMailbox) -> None:
    await mailbox.select("INBOX")
    with pytest.raises(ImapError):
        await mailbox.fetch(999)


async def test_idle_announces_new_mail(server: Dovecot, mailbox: ImapMailbox) -> None:
    await mailbox.select("INBOX")

    async def deliver() -> None:
        await server.append(server.user, _message(1))

    started = time.monotonic()
    # Appending from another connection while we IDLE; Dovecot pushes EXISTS ~0.5 s later.
    async with asyncio.TaskGroup() as group:
        waiting = group.create_task(mailbox.idle_wait(timeout=5.0))
        group.create_task(deliver())
    assert waiting.result() is True
    assert time.monotonic() - started < 3.0
    # The connection is usable after IDLE ended.
    assert len(await mailbox.uids_after(0)) == 1


async def test_idle_times_out_quietly(mailbox: ImapMailbox) -> None:
    await mailbox.select("INBOX")
    started = time.monotonic()
    assert await mailbox.idle_wait(timeout=0.5) is False
    assert 0.4 < time.monotonic() - started < 3.0
    # Twice in a row: no stale state left from the first IDLE.
    assert await mailbox.idle_wait(timeout=0.3) is False
    assert await mailbox.uids_after(0) == []


async def test_wrong_password_raises(server: Dovecot) -> None:
    box = ImapMailbox()
    with pytest.raises(ImapError, match="LOGIN"):
        await box.connect(
            server.host, server.port, server.user, "wrong", ssl=False, timeout=TIMEOUT
        )
    await box.close()


async def test_connection_refused_raises(server: Dovecot) -> None:
    box = ImapMailbox()
    with pytest.raises(ImapError):
        # Port 1 on loopback: nothing listens there.
        await box.connect(server.host, 1, server.user, server.password, ssl=False, timeout=TIMEOUT)

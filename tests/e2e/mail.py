"""Mail for the end-to-end tests: the loopback SMTP server and Dovecot mailbox fixtures, the
settings that point the bot at them, and builders and readers of the mails themselves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.runtime import Runtime
from storage.models import QuarantinedMessage
from tests.mail_servers import Dovecot, dovecot
from tests.smtp_server import Inbox, smtp_server

SUPPORT_EMAIL = "support@example.com"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with smtp_server() as server:
        yield server


async def mails(inbox: Inbox, count: int, within: float = 15.0) -> list[EmailMessage]:
    """Wait until the SMTP server holds `count` messages (it runs in its own thread)."""
    async with asyncio.timeout(within):
        while len(inbox.messages) < count:  # noqa: ASYNC110 - the server lives in another thread
            await asyncio.sleep(0.05)
    return inbox.messages


def smtp_settings(port: int) -> dict[str, Any]:
    """Outbound mail through the loopback SMTP server."""
    return {
        "smtp_server": "127.0.0.1",
        "smtp_port": port,
        "smtp_starttls": False,
        "support_email": SUPPORT_EMAIL,
    }


def customer_mail(
    subject: str, body: str, message_id: str, in_reply_to: str | None = None
) -> bytes:
    headers = [
        "From: Carol Jones <carol@example.org>",
        f"To: {SUPPORT_EMAIL}",
        f"Subject: {subject}",
        f"Message-ID: {message_id}",
    ]
    if in_reply_to:
        headers += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.fixture
async def imap(tmp_path: Path) -> AsyncIterator[Dovecot]:
    async with dovecot(tmp_path) as server:
        yield server


def email_settings(imap: Dovecot, smtp_port: int) -> dict[str, Any]:
    return {**imap.settings(poll_interval=5.0), **smtp_settings(smtp_port)}


async def quarantined(
    bot: Runtime, *, count: int, within: float = 10.0
) -> list[QuarantinedMessage]:
    """Wait for `count` quarantined items (a fresh session each look: no long transaction)."""
    async with asyncio.timeout(within):
        while True:
            async with bot.sessions() as session:
                found = list((await session.exec(select(QuarantinedMessage))).all())
            if len(found) >= count:
                return found
            await asyncio.sleep(0.1)


async def start_with_email(start_bot: Callable[..., Any], imap: Dovecot, smtp_port: int) -> Runtime:
    bot: Runtime = await start_bot(**email_settings(imap, smtp_port))
    await bot.poller_connected(timeout=10)
    assert bot.poller is not None
    return bot


LEAD = "lead@example.com"
MX = "mx.support.test"


def authenticated(sender: str) -> str:
    """The header line our receiving server (MX) writes on mail from `sender` that passed
    DKIM, SPF and DMARC: what a real customer's mail carries, and no forgery can."""
    domain = sender.rpartition("@")[2]
    return (
        f"Authentication-Results: {MX}; dkim=pass header.d={domain} header.s=s1;\r\n"
        f" spf=pass smtp.mailfrom={sender}; dmarc=pass header.from={domain}\r\n"
    )


AUTHENTICATED = authenticated(LEAD)


@pytest.fixture
def start_email_bot(
    start_bot: Callable[..., Any], imap: Dovecot, smtp: tuple[int, Inbox]
) -> Callable[..., Any]:
    async def start(**overrides: Any) -> Runtime:
        settings = {
            **email_settings(imap, smtp[0]),
            "email_poll_interval": 0.5,
            "admin_emails": [LEAD],
            "trusted_authserv_id": MX,
            **overrides,
        }
        bot: Runtime = await start_bot(**settings)
        await bot.poller_connected(timeout=10)
        return bot

    return start

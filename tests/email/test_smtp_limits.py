"""SMTP_MAX_CONNECTIONS: a burst of mail opens at most that many SMTP connections at once
(a storm used to open one per message, up to 200), and every message still goes out."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import Envelope, Session

from handlers.email.smtp_sender import SmtpConfig, SmtpSender
from tests.smtp_server import Inbox, smtp_server


class SlowInbox(Inbox):
    """Holds each message a moment, and counts the messages in flight at once (MAIL to DATA)
    and the connections that carried them (one EHLO each)."""

    def __init__(self) -> None:
        super().__init__()
        self.open = 0
        self.most = 0
        self.connections = 0

    async def handle_EHLO(
        self, server: Any, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.connections += 1
        return responses

    async def handle_MAIL(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.mail_from, envelope.mail_options = address, list(options)
        self.open += 1
        self.most = max(self.most, self.open)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(0.05)  # the relay takes its time: senders overlap
        self.open -= 1
        return await super().handle_DATA(server, session, envelope)


def mail(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "support@example.com", f"c{n}@example.org"
    message["Subject"], message["Message-ID"] = f"Case #{n}", f"<m{n}@example.com>"
    message.set_content("Your case is open.")
    return message


@pytest.mark.parametrize("limit", [1, 4])
async def test_a_burst_never_opens_more_than_the_limit(limit: int) -> None:
    inbox = SlowInbox()
    with smtp_server(inbox=inbox) as (port, _):
        sender = SmtpSender(
            SmtpConfig(host="127.0.0.1", port=port, starttls=False, max_connections=limit)
        )
        await asyncio.gather(*(sender.send(mail(n)) for n in range(30)))
        await sender.close()
    assert len(inbox.messages) == 30
    assert inbox.most == limit
    assert inbox.connections == limit, "each connection carried several messages"


async def test_a_kept_connection_the_server_dropped_costs_a_connection_not_a_message() -> None:
    inbox = SlowInbox()
    now = [0.0]
    with smtp_server(inbox=inbox) as (port, _):
        sender = SmtpSender(
            SmtpConfig(host="127.0.0.1", port=port, starttls=False), clock=lambda: now[0]
        )
        await sender.send(mail(1))
        now[0] += 5  # idle a while: checked before use
        await sender.send(mail(2))
        assert inbox.connections == 1
    with smtp_server(inbox=inbox, port=port):  # the relay restarted meanwhile
        now[0] += 5
        await sender.send(mail(3))
        now[0] += SmtpSender.IDLE_SECONDS + 1  # idle too long: closed, not checked
        await sender.send(mail(4))
        await sender.close()
    assert [m["Message-ID"] for m in inbox.messages] == [
        f"<m{n}@example.com>" for n in (1, 2, 3, 4)
    ]
    assert inbox.connections == 3


def test_the_limit_is_a_setting_with_a_default_of_4() -> None:
    from bot.config import smtp_config
    from bot.settings import Settings

    settings = Settings(_env_file=None, smtp_server="relay", support_email="s@example.com")  # type: ignore[call-arg]
    config = smtp_config(settings)
    assert config is not None and config.max_connections == 4
    with pytest.raises(ValueError, match="at least 1"):
        SmtpSender(SmtpConfig(host="relay", max_connections=0))

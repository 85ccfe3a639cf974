"""Send composed messages over SMTP; failures raise so that the outbox retries them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib


class SmtpError(Exception):
    """The message was not accepted; the outbox will try again later."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    starttls: bool = True  # upgrade a plain connection (port 587)
    tls: bool = False  # implicit TLS from the first byte (port 465)
    timeout: float = 30.0
    max_connections: int = 4  # at once, from this process (SMTP_MAX_CONNECTIONS)


class SmtpSender:
    """One connection per message: simple, and nothing stale survives a server restart.

    At most `max_connections` at once: a storm of acknowledgements queues here instead of
    opening hundreds of connections, which relays throttle or refuse. Share one sender per
    process (customer mail and reports alike) so that the limit is the process's.
    """

    def __init__(self, config: SmtpConfig) -> None:
        if config.starttls and config.tls:
            raise ValueError("choose STARTTLS or implicit TLS, not both")
        if config.max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._config = config
        self._slots = asyncio.Semaphore(config.max_connections)

    async def send(self, message: EmailMessage) -> None:
        c = self._config
        try:
            async with self._slots:
                await self._send(message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SmtpError(f"{c.host}:{c.port} refused {message['Message-ID']}: {exc}") from exc

    async def _send(self, message: EmailMessage) -> None:
        c = self._config
        await aiosmtplib.send(
            message,
            hostname=c.host,
            port=c.port,
            username=c.user or None,
            password=c.password or None,
            start_tls=c.starttls,
            use_tls=c.tls,
            timeout=c.timeout,
        )

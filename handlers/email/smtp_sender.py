"""Send composed messages over SMTP; failures raise so that the outbox retries them."""

from __future__ import annotations

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


class SmtpSender:
    """One connection per message: simple, and nothing stale survives a server restart."""

    def __init__(self, config: SmtpConfig) -> None:
        if config.starttls and config.tls:
            raise ValueError("choose STARTTLS or implicit TLS, not both")
        self._config = config

    async def send(self, message: EmailMessage) -> None:
        c = self._config
        try:
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
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SmtpError(f"{c.host}:{c.port} refused {message['Message-ID']}: {exc}") from exc

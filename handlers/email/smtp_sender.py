"""Send composed messages over SMTP; failures raise so that the outbox retries them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from services.outbox import Undeliverable


class SmtpError(Exception):
    """The message was not accepted; the outbox will try again later."""


class SmtpRejected(SmtpError, Undeliverable):
    """The server refused the recipient or the message for good (5xx): no retry. A refused
    sender or login (the relay's configuration) is a plain SmtpError, retried until fixed."""

    def __init__(self, message: str, code: int, reason: str) -> None:
        super().__init__(message)
        self.code, self.reason = code, reason


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
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPDataError) as exc:
            code, reason = _refusal(exc)
            said = f"{c.host}:{c.port} refused {message['Message-ID']}: {code} {reason}"
            if 500 <= code < 600:
                raise SmtpRejected(said, code, reason) from exc
            raise SmtpError(said) from exc
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


def _refusal(exc: aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPDataError) -> tuple[int, str]:
    """The server's code and words: the first refused recipient's, or the DATA answer's."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        first = exc.recipients[0] if exc.recipients else None
        return (first.code, first.message) if first else (0, str(exc))
    return exc.code, exc.message

"""Send composed messages over SMTP; failures raise so that the outbox retries them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
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
    """Up to `max_connections` connections at once, each kept open between messages.

    A storm of acknowledgements queues here instead of opening hundreds of connections,
    which relays throttle or refuse, and goes down a few open connections instead of a
    handshake (and a login) per message. A connection idle for more than a moment is asked
    for a NOOP before it carries a message, and one idle for IDLE_SECONDS is closed: a server
    restart or an idle timeout costs a new connection, never a message. A message whose
    connection fails is not resent here; the outbox retries it. Share one sender per process
    (customer mail and reports alike) so that the limit is the process's.
    """

    IDLE_SECONDS = 30.0  # well under the 5 minutes a server may wait (RFC 5321 4.5.3.2)
    CHECK_AFTER_SECONDS = 1.0  # a connection idle longer is checked before use

    def __init__(self, config: SmtpConfig, *, clock: Callable[[], float] = time.monotonic):
        if config.starttls and config.tls:
            raise ValueError("choose STARTTLS or implicit TLS, not both")
        if config.max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._config = config
        self._slots = asyncio.Semaphore(config.max_connections)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # (connection, idle since)
        self._clock = clock

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

    async def close(self) -> None:
        """Say goodbye on the connections kept open (on stop)."""
        idle, self._idle = self._idle, []
        for client, _ in idle:
            await _quit(client)

    async def _send(self, message: EmailMessage) -> None:
        client = await self._open()
        try:
            await client.send_message(message)
        except BaseException:
            await _quit(client)  # whatever state the server is in, start afresh next time
            raise
        self._idle.append((client, self._clock()))

    async def _open(self) -> aiosmtplib.SMTP:
        """A kept connection that still answers, or a new one."""
        while self._idle:
            client, since = self._idle.pop()
            idle = self._clock() - since
            if idle > self.IDLE_SECONDS or not client.is_connected:
                await _quit(client)
                continue
            if idle > self.CHECK_AFTER_SECONDS:
                try:
                    await client.noop()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    await _quit(client)
                    continue
            return client
        c = self._config
        client = aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            username=c.user or None,
            password=c.password or None,
            start_tls=c.starttls,
            use_tls=c.tls,
            timeout=c.timeout,
        )
        await client.connect()
        return client


async def _quit(client: aiosmtplib.SMTP) -> None:
    """QUIT if the server still listens; close the socket either way."""
    try:
        if client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        pass
    finally:
        client.close()


def _refusal(exc: aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPDataError) -> tuple[int, str]:
    """The server's code and words: the first refused recipient's, or the DATA answer's."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        first = exc.recipients[0] if exc.recipients else None
        return (first.code, first.message) if first else (0, str(exc))
    return exc.code, exc.message

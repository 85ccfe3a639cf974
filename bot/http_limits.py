"""What a slow or greedy client may hold of the HTTP server: a request's head must arrive
within `head_seconds` of its first byte (and the first byte within `idle_seconds` of the
connection or of the last answer), its body within `body_seconds`, a body larger than the
cap is refused with 413 from its Content-Length before any of it is read, and one address
keeps at most `per_address` connections open.

aiohttp times none of this out by itself (a connection with half a request head was kept
190 s and more, and 3,000 of them stayed open), so each connection's protocol is wrapped in
a small guard that watches the bytes until a head is complete, and a middleware reads the
body under a deadline.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

log = logging.getLogger(__name__)

HEAD_END = b"\r\n\r\n"


@dataclass(frozen=True)
class Limits:
    head_seconds: float = 10.0
    body_seconds: float = 60.0
    idle_seconds: float = 30.0  # a connection with no request in progress
    per_address: int = 64
    max_body_bytes: int = 1024 * 1024


class Guard:
    """Counts connections per address and wraps each connection's protocol."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.open: Counter[str] = Counter()
        self._by_handler: dict[int, _Guarded] = {}

    def wrap(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        return lambda: _Guarded(factory(), self)

    def answered(self, handler: object) -> None:
        """A response is being sent on `handler`'s connection: the next request may start."""
        guarded = self._by_handler.get(id(handler))
        if guarded is not None:
            guarded.answered()

    def middleware(self) -> Any:
        limits = self.limits

        @web.middleware
        async def bounded_body(request: web.Request, handler: Handler) -> web.StreamResponse:
            length = request.content_length
            if length is not None and length > limits.max_body_bytes:
                raise web.HTTPRequestEntityTooLarge(
                    max_size=limits.max_body_bytes, actual_size=length
                )
            if request.can_read_body:
                try:
                    async with asyncio.timeout(limits.body_seconds):
                        await request.read()  # kept: the handler's read() returns it
                except TimeoutError:
                    log.warning("HTTP: a body did not arrive within %s s", limits.body_seconds)
                    raise web.HTTPRequestTimeout() from None
            return await handler(request)

        return bounded_body


class _Guarded(asyncio.Protocol):
    """Delegates to aiohttp's protocol; closes the connection when a head is too slow."""

    def __init__(self, inner: asyncio.Protocol, guard: Guard) -> None:
        self._inner = inner
        self._guard = guard
        self._transport: asyncio.Transport | None = None
        self._address = ""
        self._in_head = False  # between a head's first byte and its blank line
        self._busy = False  # a request is being handled (its body, its answer)
        self._tail = b""  # the last bytes seen, for a blank line split across reads
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._address = str(peer[0]) if peer else ""
        guard = self._guard
        if guard.open[self._address] >= guard.limits.per_address:
            log.warning("HTTP: refused a connection from %s (too many open)", self._address)
            transport.abort()
            return
        guard.open[self._address] += 1
        guard._by_handler[id(self._inner)] = self
        self._arm(guard.limits.idle_seconds)
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        guard = self._guard
        if guard._by_handler.pop(id(self._inner), None) is not None:
            guard.open[self._address] -= 1
            if guard.open[self._address] <= 0:
                del guard.open[self._address]
            self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._busy:
            if not self._in_head:
                self._in_head = True
                self._arm(self._guard.limits.head_seconds)
            seen = self._tail + data
            if HEAD_END in seen:
                self._in_head, self._busy, self._tail = False, True, b""
                self._cancel()  # the body's deadline is the middleware's
            else:
                self._tail = seen[-3:]
        self._inner.data_received(data)

    def answered(self) -> None:
        self._busy = False
        self._arm(self._guard.limits.idle_seconds)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def _arm(self, seconds: float) -> None:
        self._cancel()
        self._timer = asyncio.get_running_loop().call_later(seconds, self._too_slow)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _too_slow(self) -> None:
        if self._transport is not None and not self._busy:
            what = "request head" if self._in_head else "request"
            log.info("HTTP: closed a connection from %s: no %s in time", self._address, what)
            self._transport.abort()

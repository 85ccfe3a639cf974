"""The bot's own HTTP server (HOST, PORT): the webhook channel now, health/metrics/API later.

Edges register their routes on `router` before `start`; this wrapper only owns the listening
socket, what a slow or greedy client may hold (bot/http_limits.py) and JSON error bodies, so
that it stays generic.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.http_limits import Guard, Limits

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 5.0  # grace for requests in flight on stop


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """HTTP errors raised by aiohttp itself (404, 405, 413 …) answer `{"error": …}` like ours."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        keep = {
            name: value
            for name, value in exc.headers.items()
            if name.lower() not in ("content-type", "content-length")
        }
        return web.json_response({"error": exc.reason}, status=exc.status, headers=keep)


class _GuardedSite(web.TCPSite):
    """aiohttp's TCP site, each connection's protocol wrapped by the guard (bot.http_limits)."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, guard: Guard) -> None:
        super().__init__(runner, host, port)
        self._guard = guard

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            self._guard.wrap(server), self._host, self._port, reuse_address=True
        )
        self._bound_port = self._server.sockets[0].getsockname()[1]


class HttpServer:
    """One aiohttp application and its listening site; routes are added before `start`."""

    def __init__(
        self, *, limits: Limits | None = None, shutdown_timeout: float = SHUTDOWN_SECONDS
    ) -> None:
        limits = limits or Limits()
        self._guard = Guard(limits)
        self._app = web.Application(
            client_max_size=limits.max_body_bytes,
            middlewares=[json_errors, self._guard.middleware()],
        )
        self._app.on_response_prepare.append(self._answered)
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def _answered(self, request: web.Request, _response: web.StreamResponse) -> None:
        self._guard.answered(request.protocol)

    @property
    def router(self) -> web.UrlDispatcher:
        """Where edges register their routes (frozen once the server has started)."""
        return self._app.router

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0 picks a free port); returns the port actually bound."""
        if self._runner is not None:
            raise RuntimeError("HTTP server already started")
        runner = web.AppRunner(self._app, shutdown_timeout=self._shutdown_timeout)
        await runner.setup()
        try:
            await _GuardedSite(runner, host, port, self._guard).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        log.info("HTTP server listening on %s:%s", host, self.port)
        return self.port

    async def stop(self) -> None:
        """Stop accepting connections, let requests in flight finish (briefly), then close."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

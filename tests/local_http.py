"""A throwaway HTTP endpoint on 127.0.0.1 for the systems Casebot talks to in tests
(webhook replies, the external ticket system, a help desk's API)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from aiohttp import web

Handle = Callable[[web.Request], Awaitable[web.StreamResponse]]


def post_endpoint(path: str, handle: Handle) -> AbstractAsyncContextManager[str]:
    """Serve `POST path` with `handle` on a free loopback port; yields the full URL."""
    return endpoint("POST", path, handle)


@asynccontextmanager
async def endpoint(method: str, path: str, handle: Handle) -> AsyncIterator[str]:
    """Serve `method path` with `handle` on a free loopback port; yields the full URL."""
    app = web.Application()
    app.router.add_route(method, path, handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    finally:
        await runner.cleanup()

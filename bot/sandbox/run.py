"""Run the sandbox: emulator first, then the real runtime pointed at it, page on its HTTP server."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from bot.config import catalog
from bot.runtime import Runtime
from bot.sandbox import page
from bot.sandbox.workspace import LOOPBACK, add_team_rooms, build_emulator, sandbox_settings
from bot.settings import Settings

log = logging.getLogger(__name__)


def page_url(host: str, port: int) -> str:
    """Where a browser on this machine finds the page (0.0.0.0 is not an address to open)."""
    shown = LOOPBACK if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}/"


def named(host: str) -> frozenset[str]:
    """The host the page answers to besides loopback: HOST, unless it is a wildcard."""
    return frozenset() if host in ("0.0.0.0", "::", "") else frozenset({host.lower()})


async def serve_sandbox(settings: Settings, *, announce: Callable[[str], None]) -> None:
    """Until SIGINT/SIGTERM: the emulator, the bot on it, and the page. `announce` gets the
    page's URL once the bot is connected. Nothing outlives the run: its database is in a
    temporary directory, as the emulator's messages are only in memory."""
    emulator = build_emulator()
    await emulator.start(LOOPBACK, 0)
    try:
        with tempfile.TemporaryDirectory(prefix="casebot-sandbox-") as data_dir:
            pointed = sandbox_settings(settings, emulator, Path(data_dir))
            if settings.catalog_path:  # the operator's catalog, maybe a URL: off the loop
                add_team_rooms(emulator, await asyncio.to_thread(catalog, pointed))
            runtime = Runtime(
                pointed,
                routes=lambda router: page.register(router, emulator, hosts=named(settings.host)),
            )

            def started() -> None:
                assert runtime.http_port is not None
                announce(page_url(runtime.settings.host, runtime.http_port))

            await runtime.serve_forever(started=started)
    finally:
        await emulator.stop()

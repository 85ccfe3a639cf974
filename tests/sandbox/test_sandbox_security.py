"""The sandbox page acts as an agent, so only the page itself may use it: another site's
page (a text/plain or form POST, a foreign Origin), a DNS-rebinding Host, or a frame are
refused; deep JSON is a 400."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.runtime import Runtime
from bot.sandbox import page
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.workspace import build_emulator, sandbox_settings
from bot.settings import Settings

AGNES = "UAGNES01"
COMMAND = b'{"user": "UAGNES01", "command": "/queue", "text": ""}'


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[tuple[str, SlackEmulator]]:
    emulator = build_emulator()
    await emulator.start()
    base = Settings(_env_file=None, port=0, triage_local_model=False)  # type: ignore[call-arg]
    runtime = Runtime(
        sandbox_settings(base, emulator, tmp_path),
        routes=lambda router: page.register(router, emulator),
    )
    try:
        await runtime.start(connect_timeout=5.0)
        yield f"http://127.0.0.1:{runtime.http_port}", emulator
    finally:
        await runtime.stop()
        await emulator.stop()


async def send(
    url: str, *, method: str = "POST", body: bytes = COMMAND, **headers: str
) -> tuple[int, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, url, data=body if method == "POST" else None, headers=headers
        ) as response,
    ):
        await response.read()
        return response.status, dict(response.headers)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "text/plain", "Origin": "http://evil.example"}, 403),
        ({"Content-Type": "text/plain"}, 415),  # a simple request: no preflight to stop it
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content-Type": "application/json", "Origin": "http://evil.example"}, 403),
        ({"Content-Type": "application/json", "Origin": "null"}, 403),  # a sandboxed frame
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403),
        ({"Content-Type": "application/json", "Host": "evil.example"}, 421),  # DNS rebinding
    ],
)
async def test_requests_from_elsewhere_run_nothing(
    sandbox: tuple[str, SlackEmulator], headers: dict[str, str], status: int
) -> None:
    base, emulator = sandbox
    assert (await send(f"{base}/sandbox/command", **headers))[0] == status
    assert emulator.ephemerals == [], "no command ran"


async def test_the_page_itself_still_acts(sandbox: tuple[str, SlackEmulator]) -> None:
    base, emulator = sandbox
    port = base.rsplit(":", 1)[1]
    status, _ = await send(
        f"{base}/sandbox/command",
        **{"Content-Type": "application/json", "Origin": f"http://localhost:{port}"},
    )
    assert status == 200
    await emulator.wait_for(lambda: emulator.ephemerals)


async def test_a_rebound_host_cannot_read_the_workspace(
    sandbox: tuple[str, SlackEmulator],
) -> None:
    base, _ = sandbox
    for path in ("/", "/sandbox/state?since=-1", "/sandbox/app.js"):
        assert (await send(base + path, method="GET", Host="evil.example:80"))[0] == 421
        assert (await send(base + path, method="GET"))[0] == 200


async def test_the_page_may_not_be_framed_or_load_from_elsewhere(
    sandbox: tuple[str, SlackEmulator],
) -> None:
    status, headers = await send(sandbox[0] + "/", method="GET")
    assert status == 200
    assert headers["X-Frame-Options"] == "DENY"
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy


async def test_deep_json_is_a_plain_400(sandbox: tuple[str, SlackEmulator]) -> None:
    status, _ = await send(
        sandbox[0] + "/sandbox/post", body=b"[" * 400_000, **{"Content-Type": "application/json"}
    )
    assert status == 400

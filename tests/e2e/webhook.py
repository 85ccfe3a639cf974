"""The webhook channel from the outside: the provider's reply endpoint (a loopback receiver that
checks every signature) and signed posts to the bot's /api/messages."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.runtime import Runtime
from handlers.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers, verify
from tests.local_http import post_endpoint

SECRET = "webhook-test-secret"
PHONE = "+15550001"
JSON = dict[str, Any]


@dataclass
class Receiver:
    """The provider's reply endpoint: records what arrives, refuses the first `down_for`."""

    url: str = ""
    down_for: int = 0
    refused: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.refused < self.down_for:
            self.refused += 1
            return web.Response(status=500, text="provider down")
        self.received.append((dict(request.headers), body))
        self.arrived.set()
        return web.json_response({"ok": True})

    async def replies(self, count: int, within: float = 20.0) -> list[JSON]:
        """Wait for `count` replies; each must carry a valid signature (checked here)."""
        async with asyncio.timeout(within):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        found = []
        for headers, body in self.received:
            verify(
                SECRET,
                body,
                timestamp=headers.get(TIMESTAMP_HEADER),
                signature_header=headers.get(SIGNATURE_HEADER),
                now=time.time(),
                max_age_seconds=300,
            )
            found.append(json.loads(body))
        return found


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    async with post_endpoint("/replies", found.handle) as found.url:
        yield found


@dataclass
class Answer:
    status: int
    json: JSON
    retry_after: str | None = None  # the Retry-After header, when there is one


def message(text: str, customer_id: str = PHONE, **extra: Any) -> str:
    return json.dumps({"customer_id": customer_id, "channel": "sms", "message": text, **extra})


async def post(
    http: aiohttp.ClientSession,
    bot: Runtime,
    body: bytes | str,
    *,
    headers: dict[str, str] | None = None,
    secret: str = SECRET,
    now: float | None = None,
) -> Answer:
    """POST `body` to the bot's /api/messages, signed with `secret` unless `headers` are given."""
    raw = body.encode() if isinstance(body, str) else body
    if headers is None:
        headers = signed_headers(secret, raw, now=time.time() if now is None else now)
    url = f"http://127.0.0.1:{bot.http_port}/api/messages"
    async with http.post(url, data=raw, headers=headers) as response:
        return Answer(response.status, await response.json(), response.headers.get("Retry-After"))

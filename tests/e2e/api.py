"""The HTTP API from the outside: a client for `/api/v1` with the test tokens, and a bot started
with them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.runtime import Runtime

TOKEN = "zapier-token-0123456789"
OTHER = "crm-token-abcdefghijklmn"
TOKENS = f"zapier:{TOKEN},crm:{OTHER}"


@dataclass
class Answer:
    status: int
    json: Any
    headers: dict[str, str]
    text: str


@dataclass
class Client:
    http: aiohttp.ClientSession
    base: str
    token: str | None = TOKEN

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        token: str | None = "default",
    ) -> Answer:
        token = self.token if token == "default" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        async with self.http.request(
            method, self.base + path, data=data, headers=headers
        ) as response:
            text = await response.text()
            parsed = json.loads(text) if text else None
            return Answer(response.status, parsed, dict(response.headers), text)

    async def create(self, message: str, customer: str = "cust-1", **extra: Any) -> Answer:
        body = {"customer_id": customer, "channel": "web", "message": message, **extra}
        return await self.call("POST", "/api/v1/cases", body)


@pytest.fixture
def api(http: aiohttp.ClientSession) -> Callable[[Runtime], Client]:
    return lambda bot: Client(http, f"http://127.0.0.1:{bot.http_port}")


async def start(start_bot: Callable[..., Any], **overrides: Any) -> Runtime:
    values = {"api_tokens": TOKENS, "triage_local_model": False, **overrides}
    bot: Runtime = await start_bot(**values)
    return bot


def no_traceback(answer: Answer) -> None:
    assert "Traceback" not in answer.text and 'File "' not in answer.text
    assert answer.headers["Content-Type"].startswith("application/json")

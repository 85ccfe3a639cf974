"""A local external ticket system on 127.0.0.1: makes tickets, can be down or slow.

It honours `Idempotency-Key` as real ticket APIs do: a repeated key gets the ticket that key
already made, so a retry after a timeout (the ticket made, the answer lost) makes no second
ticket. `tickets` is what it made; `requests` is every request it saw, in order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.local_http import post_endpoint

TOKEN = "ticket-test-token"


@dataclass
class Seen:
    headers: dict[str, str]
    body: dict[str, Any]
    status: int = 0


@dataclass
class FakeTicketSystem:
    url: str = ""
    down: bool = False  # answer 500 while set
    slow_for: int = 0  # this many requests make their ticket, then answer after `delay`
    delay: float = 0.0
    refuse_with: int | None = None  # answer this status (a 4xx) with a JSON error
    requests: list[Seen] = field(default_factory=list)
    tickets: dict[str, str] = field(default_factory=dict)  # idempotency key → ticket id
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        seen = Seen(dict(request.headers), json.loads(await request.read()))
        self.requests.append(seen)
        self.changed.set()
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            seen.status = 401
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.refuse_with is not None:
            seen.status = self.refuse_with
            return web.json_response({"error": "category is not known here"}, status=seen.status)
        if self.down:
            seen.status = 500
            return web.Response(status=500, text="ticket system down")
        key = request.headers.get("Idempotency-Key") or f"anonymous-{len(self.requests)}"
        ticket = self.tickets.setdefault(key, f"EXT-{100 + len(self.tickets)}")
        if self.slow_for > 0:
            self.slow_for -= 1
            await asyncio.sleep(self.delay)  # made, but the answer comes too late
        seen.status = 201
        self.changed.set()
        return web.json_response({"id": ticket, "status": "new"}, status=201)

    def answered(self, status: int) -> list[Seen]:
        return [seen for seen in self.requests if seen.status == status]

    async def wait(self, check: Any, within: float = 20.0) -> None:
        """Until `check()` holds."""
        async with asyncio.timeout(within):
            while not check():
                self.changed.clear()
                await self.changed.wait()


@asynccontextmanager
async def fake_ticket_system() -> AsyncIterator[FakeTicketSystem]:
    fake = FakeTicketSystem()
    async with post_endpoint("/api/tickets", fake.handle) as fake.url:
        yield fake

"""What a slow or greedy client may hold of the HTTP server (issue 16, item 3): half a head
or a promised body that never comes is cut off in time, an oversized body is refused from
its Content-Length before it is sent, and one address keeps a bounded number of sockets;
ordinary clients, keep-alive included, are served as before."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.http_limits import Limits
from bot.http_server import HttpServer

LIMITS = Limits(
    head_seconds=0.5, body_seconds=0.5, idle_seconds=1.0, per_address=3, max_body_bytes=1000
)


@pytest.fixture
async def port() -> AsyncIterator[int]:
    server = HttpServer(limits=LIMITS)

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"got": len(await request.read())})

    server.router.add_post("/echo", echo)
    server.router.add_get("/ping", lambda _r: asyncio.sleep(0, web.json_response({"ok": 1})))
    bound = await server.start("127.0.0.1", 0)
    try:
        yield bound
    finally:
        await server.stop()


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """What the server says before it closes the connection; fails if it stays open."""
    async with asyncio.timeout(seconds):
        return await reader.read()


async def test_half_a_head_is_cut_off(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-")
    started = time.monotonic()
    assert await closed_within(reader, 5) == b""
    assert time.monotonic() - started < 2
    writer.close()


async def test_a_silent_connection_is_cut_off(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await closed_within(reader, 5) == b""
    writer.close()


async def test_a_promised_body_that_never_comes_is_408(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n{"a":')
    said = await closed_within(reader, 5)
    assert said.startswith(b"HTTP/1.1 408") and b'"error"' in said
    writer.close()


async def test_an_oversized_body_is_413_before_it_is_sent(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n")
    async with asyncio.timeout(5):
        status = await reader.readline()
    assert status.startswith(b"HTTP/1.1 413")
    writer.close()


async def test_one_address_keeps_a_bounded_number_of_sockets(port: int) -> None:
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(LIMITS.per_address)]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await closed_within(reader, 5) == b"", "one too many: closed at once"
    writer.close()
    for _, w in held:
        w.close()
        await w.wait_closed()
    await asyncio.sleep(0.1)  # the server notices the closes
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    async with asyncio.timeout(5):
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
    writer.close()


async def test_keep_alive_requests_are_served_as_before(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for body in (b'{"n": 1}', b'{"n": 22}'):
        writer.write(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        async with asyncio.timeout(5):
            assert (await reader.readline()).startswith(b"HTTP/1.1 200")
            while (await reader.readline()) != b"\r\n":
                pass
            assert await reader.readuntil(b"}") == f'{{"got": {len(body)}}}'.encode()
    writer.close()

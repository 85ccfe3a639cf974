"""Socket Mode server side: websocket connections, envelope delivery, acks.

Acks are matched by envelope_id across all connections, because during a
`disconnect` handover the SDK answers on whichever session is current.
Connections told to disconnect stop receiving envelopes, like Slack does, so
`wait_connected` really waits for the replacement connection. An envelope whose connection
goes away before its ack is sent again on another connection, with `retry_attempt` and
`retry_reason` as Slack sets them: a dropped socket delays an event, it does not lose it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, WSMsgType, web

from bot.sandbox.emulator.changes import ChangeSignal
from bot.sandbox.emulator.models import Ack, JSONDict

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Connection:
    """One websocket client (one SDK session)."""

    id: int
    ws: web.WebSocketResponse
    request: web.Request
    draining: bool = field(default=False)
    closed: asyncio.Event = field(default_factory=asyncio.Event)


class SocketHub:
    """Accepts Socket Mode clients and delivers envelopes to them round robin."""

    def __init__(self, signal: ChangeSignal, app_id: str) -> None:
        self.signal = signal
        self.app_id = app_id
        self.connections: list[Connection] = []
        self.connections_total = 0
        self.envelopes: list[JSONDict] = []
        self.acks: list[Ack] = []
        self.last_envelope: JSONDict | None = None
        self._pending: dict[str, asyncio.Future[Ack]] = {}
        self._ids = itertools.count(1)
        self._round_robin = 0

    @property
    def active(self) -> list[Connection]:
        """Connections eligible for new envelopes."""
        return [c for c in self.connections if not c.draining and not c.ws.closed]

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The websocket endpoint handed out by apps.connections.open."""
        ws = web.WebSocketResponse(autoping=True, timeout=2.0)
        await ws.prepare(request)
        conn = Connection(next(self._ids), ws, request)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.active) + 1,
                "debug_info": {"host": "casebot-emulator", "approximate_connection_time": 3600},
                "connection_info": {"app_id": self.app_id},
            }
        )
        self.connections.append(conn)
        self.connections_total += 1
        self.signal.notify()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(conn, msg.data)
        finally:
            self._forget(conn)
        return ws

    def _forget(self, conn: Connection) -> None:
        conn.closed.set()
        if conn in self.connections:
            self.connections.remove(conn)
            self.signal.notify()

    def _on_text(self, conn: Connection, data: str) -> None:
        try:
            message = json.loads(data)
        except json.JSONDecodeError:
            log.warning("connection %s sent non-JSON frame: %.200s", conn.id, data)
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        if not isinstance(envelope_id, str):
            log.warning("connection %s sent a frame without envelope_id: %.200s", conn.id, data)
            return
        payload = message.get("payload")
        ack = Ack(envelope_id, payload if isinstance(payload, dict) else None)
        self.acks.append(ack)
        fut = self._pending.get(envelope_id)
        if fut is not None and not fut.done():
            fut.set_result(ack)
        self.signal.notify()

    async def _pick(self) -> Connection:
        """The next active connection, waiting for one if none is connected."""
        while True:
            active = self.active
            if active:
                self._round_robin += 1
                return active[self._round_robin % len(active)]
            await self.signal.wait()

    async def send_envelope(
        self,
        envelope: JSONDict,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        remember: bool = True,
    ) -> Ack:
        """Deliver one envelope to one connection and wait for its ack.

        `remember=False` keeps it out of `last_envelope` (used for echoes, so
        a test's "redeliver the last envelope" means the last one it drove).
        """
        envelope_id = envelope.get("envelope_id")
        if not isinstance(envelope_id, str) or not envelope_id:
            raise ValueError("an envelope needs a string envelope_id")
        if envelope_id in self._pending:
            raise ValueError(f"envelope {envelope_id} is already awaiting its ack")
        if remember:
            self.last_envelope = envelope
        self.envelopes.append(envelope)
        self.signal.notify()
        fut: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = fut
        try:
            async with asyncio.timeout(timeout):
                while True:
                    conn = await self._pick()
                    try:
                        await conn.ws.send_str(json.dumps(envelope))
                    except ConnectionError:
                        self._forget(conn)
                        continue
                    closed: asyncio.Future[object] = asyncio.ensure_future(conn.closed.wait())
                    waiting: set[asyncio.Future[object]] = {fut, closed}  # type: ignore[arg-type]
                    try:
                        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        closed.cancel()
                    if fut.done():
                        return fut.result()
                    # Gone before the ack: Slack sends the envelope again, elsewhere.
                    attempt = int(envelope.get("retry_attempt", 0)) + 1
                    envelope = {**envelope, "retry_attempt": attempt, "retry_reason": "timeout"}
        except TimeoutError:
            raise TimeoutError(
                f"no ack for {envelope.get('type')} envelope {envelope_id} within {timeout}s "
                f"({len(self.active)} active socket connection(s))"
            ) from None
        finally:
            self._pending.pop(envelope_id, None)

    async def send_disconnect(self, reason: str = "warning") -> None:
        """Ask every client to reconnect; they get no new envelopes meanwhile."""
        for conn in list(self.connections):
            conn.draining = True
            try:
                await conn.ws.send_json(
                    {
                        "type": "disconnect",
                        "reason": reason,
                        "debug_info": {"host": "casebot-emulator"},
                    }
                )
            except ConnectionError:
                self._forget(conn)
        self.signal.notify()

    async def drop_all(self, abrupt: bool = True) -> None:
        """Kill every connection.

        abrupt=True aborts at the TCP level like a network failure: the SDK
        only notices on its next ping check (up to ~2x its ping_interval).
        abrupt=False sends a close frame, which the SDK answers at once.
        """
        conns = list(self.connections)
        for conn in conns:
            self._forget(conn)
            transport = conn.request.transport
            if abrupt and transport is not None:
                transport.abort()
        if not abrupt:
            await asyncio.gather(
                *(c.ws.close(code=WSCloseCode.GOING_AWAY, message=b"dropped") for c in conns),
                return_exceptions=True,
            )
        self.signal.notify()

    async def close_all(self) -> None:
        """Close every connection politely (server going away)."""
        conns = list(self.connections)
        for conn in conns:
            self._forget(conn)
        await asyncio.gather(
            *(c.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for c in conns),
            return_exceptions=True,
        )
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("emulator stopped before the ack arrived"))

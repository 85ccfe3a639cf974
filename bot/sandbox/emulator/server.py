"""SlackEmulator: the facade that tests and the sandbox mode talk to.

It wires the workspace, the Web API, the Socket Mode hub and the response
URLs into one aiohttp server, and offers "driving" methods that make Slack
send things to the app exactly as real Slack would.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid

from aiohttp import web

from bot.sandbox.emulator import payloads
from bot.sandbox.emulator.api_common import ApiContext
from bot.sandbox.emulator.driving import Driving
from bot.sandbox.emulator.faults import ChannelRateLimiter, FaultInjector
from bot.sandbox.emulator.file_urls import FileUrls
from bot.sandbox.emulator.inspection import Inspection
from bot.sandbox.emulator.manifest import AppManifest
from bot.sandbox.emulator.methods_files import file_object
from bot.sandbox.emulator.models import Ack, JSONDict, UploadedFile
from bot.sandbox.emulator.response_urls import ResponseUrls
from bot.sandbox.emulator.socket_mode import SocketHub
from bot.sandbox.emulator.state import Workspace
from bot.sandbox.emulator.webapi import WebApi

log = logging.getLogger(__name__)


class SlackEmulator(Driving, Inspection):
    """A local Slack (Web API + Socket Mode) for one workspace and one bot."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        app_token: str = "xapp-test",
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        echo_bot_messages: bool = True,
        post_rate_per_channel: float | None = None,
        *,
        team_domain: str = "casebot-test",
        app_id: str = "A0001",
        bot_name: str = "casebot",
        manifest: AppManifest | None = None,
        rate_tiers: bool = True,
    ) -> None:
        """`manifest` is what the app was installed with (default: the project's
        manifest.yml): its scopes, events and commands bound what the bot may do and hear.
        `rate_tiers` applies Slack's per-method rate limits (off only for benchmarks)."""
        self.echo_bot_messages = echo_bot_messages
        self.manifest = manifest or AppManifest.project()
        # Events Slack would not have sent (unsubscribed, or a channel the bot is not in).
        self.undelivered: list[tuple[str, JSONDict]] = []
        self.workspace = Workspace(
            team_id=team_id,
            team_domain=team_domain,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            bot_name=bot_name,
            app_id=app_id,
        )
        self.faults = FaultInjector()
        self.limiter = ChannelRateLimiter(post_rate_per_channel)
        self.hub = SocketHub(self.workspace.signal, app_id)
        self.response_urls = ResponseUrls(self.workspace)
        ctx = ApiContext(
            self.workspace,
            self.limiter,
            self._on_bot_post,
            self._socket_url,
            self._public_url,
            lambda: self.api.granted,
        )
        self.api = WebApi(
            ctx,
            self.faults,
            bot_token=bot_token,
            app_token=app_token,
            manifest=self.manifest,
            rate_tiers=rate_tiers,
        )
        self.file_urls = FileUrls(
            self.workspace, self.faults, bot_token, granted=lambda: self.api.granted
        )
        self._runner: web.AppRunner | None = None
        self._host = ""
        self._port = 0
        self._echo_tasks: set[asyncio.Task[None]] = set()

    # ---- lifecycle -------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (port 0 picks a free one); may be called only once."""
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self.api.handle)
        app.router.add_get("/link/", self.hub.handle)
        app.router.add_post("/response/{url_id}", self.response_urls.handle)
        app.router.add_post("/upload/v1/{key}", self.file_urls.upload)
        app.router.add_get("/files-pri/{team_file}/{name}", self.file_urls.download)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        self._host, self._port = host, int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Close sockets and the server; pending echo deliveries are cancelled."""
        for task in list(self._echo_tasks):
            task.cancel()
        await asyncio.gather(*self._echo_tasks, return_exceptions=True)
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("emulator not started")
        return f"http://{self._host}:{self._port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL (with the trailing slash slack_sdk needs)."""
        return f"{self.base_url}/api/"

    def _granted(self) -> frozenset[str]:
        return self.api.granted

    def _public_url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _socket_url(self) -> str:
        return (
            f"ws://{self._host}:{self._port}/link/"
            f"?ticket={uuid.uuid4()}&app_id={self.workspace.app_id}"
        )

    # ---- directory -------------------------------------------------------

    def add_user(self, user_id: str, name: str, is_bot: bool = False) -> None:
        self.workspace.add_user(user_id, name, is_bot=is_bot)

    def person_file(self, user_id: str, name: str, content: bytes) -> JSONDict:
        """A file `user_id` uploaded, stored as Slack keeps it (downloadable with the bot
        token and files:read), rendered as the file object a message carries."""
        upload = UploadedFile(
            id=payloads.new_id("F"),
            name=name,
            length=len(content),
            upload_key=secrets.token_urlsafe(16),
            created=int(time.time()),
            title=name,
            content=content,
            completed=True,
            owner=user_id,
        )
        self.workspace.add_file(upload)
        return file_object(self.api.ctx, upload)

    def add_channel(
        self, channel_id: str, name: str, *, is_private: bool = False, is_member: bool = True
    ) -> None:
        """Add a channel; `is_member=False` makes bot posts fail with not_in_channel."""
        self.workspace.add_channel(channel_id, name, is_private=is_private, is_member=is_member)

    def open_dm(self, user_id: str) -> str:
        return self.workspace.open_dm(user_id)

    def add_usergroup(self, group_id: str, handle: str, users: list[str]) -> None:
        self.workspace.add_usergroup(group_id, handle, users)

    # ---- driving ---------------------------------------------------------

    async def wait_connected(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Until at least one socket client is connected (and not draining)."""
        await self.wait_for(lambda: bool(self.hub.active), timeout)

    async def send_envelope(self, envelope: JSONDict, timeout: float = 5.0) -> Ack:  # noqa: ASYNC109
        """Deliver any envelope to one connected client and wait for its ack."""
        return await self.hub.send_envelope(envelope, timeout)

    @property
    def last_envelope(self) -> JSONDict | None:
        """The last envelope sent by a driving call (bot-post echoes excluded)."""
        return self.hub.last_envelope

    def _on_bot_post(self, channel_id: str, message: JSONDict) -> None:
        """Echo a bot post back as a message event, as Slack does for apps."""
        if not self.echo_bot_messages or not self.hub.connections:
            return
        event = payloads.message_event(channel_id, self.workspace.channel_type(channel_id), message)
        if self._why_not_delivered(event) is not None:
            return
        payload = payloads.event_callback(self.workspace, event, payloads.new_id("Ev"))
        env = payloads.envelope("events_api", payload, accepts_response_payload=False)
        task = asyncio.get_running_loop().create_task(self._deliver_echo(env))
        self._echo_tasks.add(task)
        task.add_done_callback(self._echo_tasks.discard)

    async def _deliver_echo(self, env: JSONDict) -> None:
        try:
            await self.hub.send_envelope(env, 5.0, remember=False)
        except (TimeoutError, ConnectionError) as exc:
            log.warning("bot message echo %s was not acked: %s", env["envelope_id"], exc)

    # ---- fault injection -------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        error: str | None = None,
        drop: bool = False,
        count: int = 1,
    ) -> None:
        """Make the next `count` calls to `method` fail (see FaultInjector.fail_next).

        `method` is a Web API method name, or "upload_url" for the byte uploads
        of files_upload_v2 (file_urls.UPLOAD_URL).
        """
        self.faults.fail_next(
            method, status=status, retry_after=retry_after, error=error, drop=drop, count=count
        )

    def outage(self, *methods: str, seconds: float) -> None:
        """Every call to `methods` fails for `seconds`: 429 with Retry-After, 500, 503 and
        dropped connections in turn (see FaultInjector.outage)."""
        self.faults.outage(methods, seconds)

    async def send_disconnect(self, reason: str = "warning") -> None:
        """Socket Mode "disconnect" to every client; they reconnect, then close the old one."""
        await self.hub.send_disconnect(reason)

    async def drop_sockets(self, abrupt: bool = True) -> None:
        """Close every websocket; abrupt (default) = TCP abort, the SDK notices on its
        next ping check, so give its handler a short ping_interval in tests."""
        await self.hub.drop_all(abrupt)

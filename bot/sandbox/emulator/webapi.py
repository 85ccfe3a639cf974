"""aiohttp handler for /api/<method>: parsing, auth, faults, dispatch, recording.

slack_sdk sends some methods as JSON and others as form data or query
parameters, with the token in a Bearer header or a `token` field, so all of
those are accepted and merged into one argument dict before dispatch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.sandbox.emulator import scopes
from bot.sandbox.emulator.api_common import ApiContext, ApiError, Method, RateLimited, str_list
from bot.sandbox.emulator.faults import FaultInjector
from bot.sandbox.emulator.manifest import AppManifest
from bot.sandbox.emulator.methods_chat import CHAT_METHODS
from bot.sandbox.emulator.methods_directory import DIRECTORY_METHODS
from bot.sandbox.emulator.methods_files import FILES_METHODS
from bot.sandbox.emulator.modals import MODAL_METHODS
from bot.sandbox.emulator.models import Fault, JSONDict
from bot.sandbox.emulator.rate_tiers import MethodRateLimiter

log = logging.getLogger(__name__)

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
APP_LEVEL_METHODS = frozenset({"apps.connections.open"})


async def parse_request(request: web.Request) -> tuple[JSONDict, str | None]:
    """Merge query, JSON and form arguments; pull the token out of them."""
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError:
                raise ApiError("invalid_json") from None
            if not isinstance(body, dict):
                raise ApiError("invalid_json")
            args.update(body)
        elif request.content_type in _FORM_TYPES:
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    token = args.pop("token", None)
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = header.removeprefix("Bearer ").strip()
    return args, (str(token) if token else None)


class WebApi:
    """Serves the emulated Web API against one workspace."""

    def __init__(
        self,
        ctx: ApiContext,
        faults: FaultInjector,
        *,
        bot_token: str,
        app_token: str,
        manifest: AppManifest,
        rate_tiers: bool = True,
    ) -> None:
        self.ctx = ctx
        self.faults = faults
        self.bot_token = bot_token
        self.app_token = app_token
        # The bot token's scopes, as installed from the manifest: a method needing another
        # answers missing_scope, and auth.test lists them in `x-oauth-scopes`, as Slack does.
        self.granted: frozenset[str] = manifest.bot_scopes
        self.tiers = MethodRateLimiter(enabled=rate_tiers)
        # Called after a method succeeded, before its answer is sent: a test can kill the
        # bot there ("Slack did it, the bot never heard back").
        self.after_call: Callable[[str, JSONDict, JSONDict], Awaitable[None]] | None = None
        self.methods: dict[str, Method] = {
            **CHAT_METHODS,
            **DIRECTORY_METHODS,
            **FILES_METHODS,
            **MODAL_METHODS,
            "apps.connections.open": self._connections_open,
        }

    def _connections_open(self, ctx: ApiContext, args: JSONDict) -> JSONDict:
        return {"url": ctx.socket_url()}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            args, token = await parse_request(request)
        except ApiError as exc:
            return self._answer(method, {}, {"ok": False, "error": exc.error})
        fault = self.faults.take(method)
        if fault is not None:
            return self._fault(request, method, args, fault)
        impl = self.methods.get(method)
        if impl is None:
            return self._answer(method, args, {"ok": False, "error": "unknown_method"})
        expected = self.app_token if method in APP_LEVEL_METHODS else self.bot_token
        if token != expected:
            return self._answer(method, args, {"ok": False, "error": "invalid_auth"})
        try:
            if method not in APP_LEVEL_METHODS:
                self._check_scope(method, args)
            retry_after = self.tiers.acquire(method)
            if retry_after is not None:
                raise RateLimited(retry_after)
            result = impl(self.ctx, args)
        except ApiError as exc:
            body = {"ok": False, "error": exc.error, **exc.extra}
            return self._answer(method, args, body)
        except RateLimited as exc:
            return self._answer(
                method,
                args,
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(exc.retry_after)},
            )
        except Exception:
            log.exception("emulated %s failed", method)
            return self._answer(method, args, {"ok": False, "error": "internal_error"}, status=500)
        if self.after_call is not None:
            await self.after_call(method, args, result)
        headers = {"x-oauth-scopes": ",".join(sorted(self.granted))}
        return self._answer(method, args, {"ok": True, **result}, headers=headers)

    def _check_scope(self, method: str, args: JSONDict) -> None:
        """Raise missing_scope, with Slack's `needed` and `provided`, if the token lacks it."""
        kinds: list[str] = []
        if method == "conversations.list":
            kinds = str_list(args, "types") or ["public_channel"]
        elif method in scopes.BY_CONVERSATION:
            ref = args.get("channel")
            channel = self.ctx.workspace.resolve_channel(str(ref)) if ref else None
            if channel is None:
                return  # the method answers channel_not_found itself
            kinds = [channel.kind]
        lacking = sorted(scopes.needed_for(method, kinds) - self.granted)
        if lacking:
            raise ApiError(
                "missing_scope", needed=",".join(lacking), provided=",".join(sorted(self.granted))
            )

    def _answer(
        self,
        method: str,
        args: JSONDict,
        body: JSONDict,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        ok = bool(body.get("ok"))
        error = None if ok else str(body.get("error"))
        self.ctx.workspace.record_call(method, args, ok, error)
        return web.json_response(body, status=status, headers=headers)

    def _fault(
        self, request: web.Request, method: str, args: JSONDict, fault: Fault
    ) -> web.StreamResponse:
        if fault.drop:
            self.ctx.workspace.record_call(method, args, False, fault.error)
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never reaches the client
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
        return self._answer(
            method,
            args,
            {"ok": False, "error": fault.error},
            status=fault.status,
            headers=headers,
        )

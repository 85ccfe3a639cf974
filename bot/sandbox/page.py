"""The sandbox page: `GET /` draws the workspace; `/sandbox/*` lets the visitor act in it.

Every action goes through the emulator exactly as a person in Slack would act (a message
event, a slash command, a button click, a message shortcut or a reaction over Socket Mode),
so the page shows the real bot at work. `GET /sandbox/state?since=N` answers when the
workspace has changed after version N (a long poll), so the page updates without hammering
the server.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.snapshot import snapshot
from bot.sandbox.workspace import PEOPLE

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 20.0
MAX_TEXT = 4000  # Slack's own limit for a message typed by a person
MAX_FILES, MAX_FILE_BYTES = 3, 512 * 1024  # base64 in a JSON body the HTTP server accepts
STATIC = {
    "/": ("index.html", "text/html"),
    "/sandbox/app.js": ("app.js", "text/javascript"),
    "/sandbox/style.css": ("style.css", "text/css"),
}
_PEOPLE = {person.id for person in PEOPLE}


# The page and what it loads come from this server only, and no other site may frame it.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadRequest(Exception):
    """The page sent something the sandbox cannot act on; the message says what."""


def register(
    router: web.UrlDispatcher, emulator: SlackEmulator, *, hosts: frozenset[str] = frozenset()
) -> None:
    """Add the page and its actions to the bot's HTTP server.

    The page acts as an agent, so only the page itself may use it: a request naming another
    host (DNS rebinding) or coming from another site's page is refused, and actions take
    JSON only (a form or a `text/plain` POST from elsewhere cannot be one). `hosts` are the
    names the page answers to besides the loopback ones (HOST, when it is not a wildcard).
    """
    allowed = LOOPBACK_NAMES | hosts
    for path, (name, content_type) in STATIC.items():
        router.add_get(path, _same_origin(_static(name, content_type), allowed))
    router.add_get("/sandbox/state", _same_origin(_state(emulator), allowed))
    actions: dict[str, Callable[[SlackEmulator, dict[str, Any]], Awaitable[None]]] = {
        "post": _post,
        "command": _command,
        "click": _click,
        "home": _home,
        "shortcut": _shortcut,
        "react": _react,
        "submit": _submit,
        "close": _close,
    }
    for name, action in actions.items():
        router.add_post(f"/sandbox/{name}", _same_origin(_acting(emulator, action), allowed))


def _hostname(value: str) -> str:
    """`host`, `host:port`, `[::1]:port` or a URL's authority → the host name, lower case."""
    value = value.rpartition("//")[2].split("/", 1)[0].lower()
    if value.startswith("["):
        return value[1 : value.find("]")]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _same_origin(handler: Handler, allowed: frozenset[str]) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if _hostname(request.host or "") not in allowed:
            log.warning("sandbox: refused a request for host %r", request.host)
            return web.json_response({"error": "this sandbox does not serve that host"}, status=421)
        origin = request.headers.get("Origin")
        if origin is not None and (origin == "null" or _hostname(origin) not in allowed):
            log.warning("sandbox: refused a request from %r", origin)
            return web.json_response({"error": "cross-site requests are refused"}, status=403)
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            return web.json_response({"error": "cross-site requests are refused"}, status=403)
        if request.method == "POST" and request.content_type != "application/json":
            return web.json_response({"error": "send a JSON object"}, status=415)
        response = await handler(request)
        response.headers.update(PAGE_HEADERS)
        return response

    return guarded


def _static(name: str, content_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    body = (resources.files("bot.sandbox") / "static" / name).read_bytes()

    async def serve(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type, charset="utf-8")

    return serve


def _state(emulator: SlackEmulator) -> Callable[[web.Request], Awaitable[web.Response]]:
    signal = emulator.workspace.signal

    async def state(request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "-1"))
        except ValueError:
            return web.json_response({"error": "since must be a number"}, status=400)
        if since >= signal.version:
            try:
                async with asyncio.timeout(LONG_POLL_SECONDS):
                    while since >= signal.version:
                        await signal.wait()
            except TimeoutError:
                pass  # nothing new: the page asks again
        return web.json_response(snapshot(emulator.workspace))

    return state


def _acting(
    emulator: SlackEmulator, action: Callable[[SlackEmulator, dict[str, Any]], Awaitable[None]]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def act(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise BadRequest("send a JSON object")
            await action(emulator, body)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # [[[[… too deep
            return web.json_response({"error": "send a JSON object"}, status=400)
        except (BadRequest, LookupError) as error:
            return web.json_response({"error": str(error).strip("'\"")}, status=400)
        except TimeoutError:
            log.warning("sandbox: the bot did not acknowledge %s in time", request.path)
            return web.json_response(
                {"error": "the bot did not acknowledge in time; is it still starting?"}, status=504
            )
        return web.json_response({"ok": True})

    return act


def _field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"{name} is missing")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


def _person(body: dict[str, Any]) -> str:
    user = str(_field(body, "user"))
    if user not in _PEOPLE:
        raise BadRequest(f"unknown person {user!r}")
    return user


def _text(body: dict[str, Any], name: str) -> str:
    text = str(_field(body, name, required=False) or "")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"{name} is longer than {MAX_TEXT} characters")
    return text


_BROADCAST = re.compile(r"(?<![\w@])@(here|channel|everyone)\b")


def as_slack_sends(typed: str) -> str:
    """What a Slack client sends for typed text: `&`, `<`, `>` escaped, and @here,
    @channel, @everyone turned into the broadcasts they are."""
    escaped = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(r"<!\1>", escaped)


def _files(body: dict[str, Any]) -> list[tuple[str, bytes]]:
    """`files`: up to MAX_FILES of {"name": …, "data": base64}, each at most MAX_FILE_BYTES."""
    given = body.get("files")
    if given is None:
        return []
    if not isinstance(given, list) or len(given) > MAX_FILES:
        raise BadRequest(f"files must be a list of at most {MAX_FILES}")
    files = []
    for item in given:
        if not isinstance(item, dict):
            raise BadRequest("each file must be an object with a name and data")
        name, data = _field(item, "name"), _field(item, "data")
        if len(str(name)) > 255:
            raise BadRequest("a file name is longer than 255 characters")
        try:
            content = base64.b64decode(str(data), validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"file {name!r}: data is not base64") from None
        if len(content) > MAX_FILE_BYTES:
            raise BadRequest(f"file {name!r} is larger than {MAX_FILE_BYTES:,} bytes")
        files.append((str(name), content))
    return files


async def _post(emulator: SlackEmulator, body: dict[str, Any]) -> None:
    user, channel = _person(body), str(_field(body, "channel"))
    text, files = _text(body, "text"), _files(body)
    if not text.strip() and not files:
        raise BadRequest("type a message first")
    await emulator.user_message(
        user,
        channel,
        as_slack_sends(text),
        thread_ts=_field(body, "thread_ts", required=False),
        files=files,
    )


async def _command(emulator: SlackEmulator, body: dict[str, Any]) -> None:
    user = _person(body)
    command = str(_field(body, "command"))
    if command not in ("/case", "/queue"):
        raise BadRequest("the sandbox knows /case and /queue")
    await emulator.slash_command(
        user, command, _text(body, "text"), channel=_field(body, "channel", required=False)
    )


async def _click(emulator: SlackEmulator, body: dict[str, Any]) -> None:
    await emulator.click(
        _person(body),
        str(_field(body, "channel")),
        str(_field(body, "ts")),
        str(_field(body, "action_id")),
        value=_field(body, "value", required=False),
        block_id=_field(body, "block_id", required=False),
    )


async def _home(emulator: SlackEmulator, body: dict[str, Any]) -> None:
    """The visitor opened a person's App Home tab: Slack sends app_home_opened."""
    user = _person(body)
    await emulator.send_event(
        {"type": "app_home_opened", "user": user, "channel": emulator.open_dm(user), "tab": "home"}
    )


async def _shortcut(emulator: SlackEmulator, body: dict[str, Any]) -> None:
    """The visitor chose a message's ⋯ → Open a case (a message shortcut)."""
    await emulator.message_shortcut(
        _person(body), str(_field(body, "channel")), str(_field(body, "ts")), "open_case"
    )


async def _react(emulator: SlackEmulator, body: dict[str, Any]) -> None:
    """The visitor reacted to a message (the page offers 🎫, the CASE_REACTION)."""
    name = str(_field(body, "name"))
    if not re.fullmatch(r"[a-z0-9_+\-]{1,100}", name):
        raise BadRequest("name must be an emoji's name, like ticket")
    await emulator.react(_person(body), str(_field(body, "channel")), str(_field(body, "ts")), name)


async def _submit(emulator: SlackEmulator, body: dict[str, Any]) -> None:
    """The visitor pressed a modal's submit button with what they typed in its inputs."""
    values = body.get("values")
    if not isinstance(values, dict) or not all(
        isinstance(inputs, dict) and all(isinstance(v, str) for v in inputs.values())
        for inputs in values.values()
    ):
        raise BadRequest("values must map block ids to {action id: text}")
    if any(len(v) > MAX_TEXT for inputs in values.values() for v in inputs.values()):
        raise BadRequest(f"a value is longer than {MAX_TEXT} characters")
    await emulator.submit_view(_person(body), str(_field(body, "view_id")), values)


async def _close(emulator: SlackEmulator, body: dict[str, Any]) -> None:
    """The visitor closed (cancelled) a modal."""
    await emulator.close_view(_person(body), str(_field(body, "view_id")))

"""Shared plumbing for Web API method implementations.

Slack clients send the same argument as JSON, form field or query string,
so values arrive as str, list or dict; these helpers normalise them and turn
bad input into Slack-style error codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.emulator.faults import ChannelRateLimiter
from bot.sandbox.emulator.models import Channel, JSONDict
from bot.sandbox.emulator.state import Workspace


class ApiError(Exception):
    """Answered as HTTP 200 {"ok": false, "error": code, **extra} (extra: Slack's details,
    such as `needed`/`provided` for missing_scope or `errors` for invalid_blocks)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class RateLimited(Exception):
    """Answered as HTTP 429 with a Retry-After header."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"ratelimited, retry after {retry_after}s")
        self.retry_after = retry_after


@dataclass
class ApiContext:
    """What method implementations may touch besides their arguments."""

    workspace: Workspace
    limiter: ChannelRateLimiter
    on_bot_post: Callable[[str, JSONDict], None]
    socket_url: Callable[[], str]
    public_url: Callable[[str], str]  # "/path" -> "http://host:port/path"
    granted: Callable[[], frozenset[str]] = frozenset  # the bot token's scopes, now


Method = Callable[[ApiContext, JSONDict], JSONDict]


def opt_str(args: JSONDict, key: str) -> str | None:
    """A string argument, or None when absent/empty."""
    value = args.get(key)
    if value is None or value == "":
        return None
    return str(value)


def req_str(args: JSONDict, key: str, error: str = "invalid_arguments") -> str:
    value = opt_str(args, key)
    if value is None:
        raise ApiError(error)
    return value


def opt_bool(args: JSONDict, key: str, default: bool = False) -> bool:
    value = args.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def opt_int(args: JSONDict, key: str, default: int) -> int:
    value = args.get(key)
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise ApiError("invalid_arguments") from None


def opt_json(args: JSONDict, key: str) -> Any:
    """A structured argument (blocks, view, ...), decoding form-encoded JSON."""
    value = args.get(key)
    if isinstance(value, str):
        if value == "":
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(f"invalid_{key}") from None
    return value


def str_list(args: JSONDict, key: str) -> list[str]:
    """A list argument given either as a JSON list or comma separated."""
    value = args.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def channel_arg(ctx: ApiContext, args: JSONDict, key: str = "channel") -> Channel:
    ref = req_str(args, key, "channel_not_found")
    channel = ctx.workspace.resolve_channel(ref)
    if channel is None:
        raise ApiError("channel_not_found")
    return channel


def member_channel_arg(ctx: ApiContext, args: JSONDict, key: str = "channel") -> Channel:
    """A channel the bot is in: Slack answers not_in_channel for any other."""
    channel = channel_arg(ctx, args, key)
    if not channel.is_member:
        raise ApiError("not_in_channel")
    return channel


def invalid_blocks(errors: list[str]) -> ApiError:
    """Slack's answer to blocks past a Block Kit limit, pointers included."""
    return ApiError(
        "invalid_blocks",
        errors=errors,
        response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
    )

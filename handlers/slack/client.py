"""The Web API client: one shared HTTP session and slack_sdk's retry handlers."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient


def response_header(headers: Mapping[str, object], name: str) -> str | None:
    """A header of a Web API answer, whatever case the server wrote its name in."""
    wanted = name.lower()
    return next((str(v) for k, v in headers.items() if k.lower() == wanted), None)


def build_client(
    token: str, base_url: str, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """429 with Retry-After, 5xx and dropped connections are retried by the client itself;
    whatever still fails is retried later by the outbox with backoff."""
    client = AsyncWebClient(token=token, base_url=base_url, session=session, timeout=15)
    client.retry_handlers.extend(
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ]
    )
    # The client starts with a connection-error handler (1 retry); allow a few more.
    client.retry_handlers[:] = [
        h for h in client.retry_handlers if not isinstance(h, AsyncConnectionErrorRetryHandler)
    ]
    client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=3))
    return client

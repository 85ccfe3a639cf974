"""Absurdly nested JSON to the signed webhook is a 422 in words, never a 500 with a
traceback: json.loads raises RecursionError past ~1,000 levels, which is not a ValueError."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.runtime import Runtime
from handlers.webhook.signing import signed_headers

SECRET = "hostile-requests-secret"
DEEP = b"[" * 400_000  # 400 KB of [[[[…, as the probe sent


async def test_deep_json_to_the_signed_webhook_is_refused_in_words(
    start_bot: Callable[..., Any],
) -> None:
    bot: Runtime = await start_bot(webhook_secret=SECRET)
    headers = signed_headers(SECRET, DEEP, now=time.time())
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{bot.http_port}/api/messages", data=DEEP, headers=headers
        ) as r,
    ):
        assert r.status == 422  # the webhook words every unusable body as 422
        body = await r.json()
    assert "not valid UTF-8 JSON" in str(body) and "Traceback" not in str(body)

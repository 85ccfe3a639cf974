"""Read a help desk's requests page by page (aiohttp), signed with its key and secret."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from handlers.helpdesk.config import HelpdeskConfig
from handlers.helpdesk.mapping import pick

TIMEOUT = aiohttp.ClientTimeout(total=60)


class HelpdeskError(Exception):
    """The help desk refused or did not answer; the message says what to check."""


def _headers(config: HelpdeskConfig) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    credentials = config.credentials()
    if credentials is None:
        return headers
    key, secret = credentials
    if config.auth == "basic":
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    else:
        headers[config.key_header] = key
        headers[config.secret_header] = secret
    return headers


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int | None  # every request, when the help desk says (config `total`)


async def pages(config: HelpdeskConfig) -> AsyncIterator[Page]:
    """Each page's requests, in order, until the last page."""
    headers = _headers(config)
    number = config.first_page
    url: str | None = config.url
    seen: set[str] = set()
    async with aiohttp.ClientSession(timeout=TIMEOUT, headers=headers) as http:
        for _ in range(config.max_pages):
            assert url is not None
            target = URL(url)
            if config.next is None and config.page_param:
                query = {config.page_param: str(number)}
                if config.page_size_param:
                    query[config.page_size_param] = str(config.page_size)
                target = target.update_query(query)
            if str(target) in seen:
                raise HelpdeskError(f"the help desk sent {target} twice: stopped (a paging loop)")
            seen.add(str(target))
            body = await _get(http, target)
            items = pick(body, config.items) if config.items else body

            if not isinstance(items, list):
                raise HelpdeskError(f"{target}: no list at {config.items!r} in the answer")
            if items:
                found = pick(body, config.total) if config.total else None
                yield Page(items, found if isinstance(found, int) else None)
            if config.next is not None:
                following = pick(body, config.next)
                if not following:
                    return
                url = str(target.join(URL(str(following))))
            elif not items or not config.page_param:
                return
            number += 1
        raise HelpdeskError(f"more than max_pages ({config.max_pages}) pages: stopped")


async def _get(http: aiohttp.ClientSession, target: URL) -> Any:
    try:
        async with http.get(target) as response:
            if response.status in (401, 403):
                raise HelpdeskError(
                    f"the help desk refused the key and secret ({response.status}): check "
                    "HELPDESK_KEY and HELPDESK_SECRET"
                )
            if response.status != 200:
                raise HelpdeskError(f"{target} answered {response.status}")
            return await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:  # ValueError: not JSON
        raise HelpdeskError(f"{target}: {type(error).__name__}: {error}") from None

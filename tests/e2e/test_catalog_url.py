"""CATALOG_PATH as a URL: fetched at start and by `casebot catalog reload`, the last copy that
validated kept and used when the URL is down or serves a broken catalog."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.catalog_source import load
from bot.runtime import Runtime
from services.triage.catalog import CatalogError
from tests.e2e.cli import CLEAN_ENV, casebot
from tests.local_http import endpoint

CATALOG = """\
categories:
  - name: shipping
    request_types:
      - id: lost_parcel
        name: Lost parcel
        description: A parcel that never arrived
        examples: ["My parcel never arrived", "The package is lost"]
        sla: {unit: hours, value: 24}
        skills: [shipping]
        priority: 4
"""
BROKEN = "categories:\n  - name: shipping\n    request_types: []\n"


def served(current: list[str]) -> Callable[[web.Request], Any]:
    async def handle(_request: web.Request) -> web.Response:
        if current[0] == "down":
            return web.Response(status=503, text="maintenance")
        return web.Response(text=current[0], content_type="application/yaml")

    return handle


async def reload(tmp_path: Path, url: str) -> tuple[int, str, str]:
    env = {
        **CLEAN_ENV,
        "CATALOG_PATH": url,
        "CATALOG_CACHE_PATH": str(tmp_path / "last-good.yml"),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
    }
    process = await casebot("catalog", "reload", env=env, cwd=tmp_path)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_reload_keeps_a_good_copy_and_refuses_a_broken_one(tmp_path: Path) -> None:
    current = [CATALOG]
    async with endpoint("GET", "/catalog.yml", served(current)) as url:
        code, out, err = await reload(tmp_path, url)
        assert code == 0, err
        assert out.startswith(f"1 categories, 1 request types from {url}; kept as the last good")
        assert (tmp_path / "last-good.yml").read_text() == CATALOG

        current[0] = BROKEN
        code, out, err = await reload(tmp_path, url)
        assert code == 2
        assert err.startswith(f"casebot: CATALOG_PATH: {url}: categories.0.request_types")
        assert err.rstrip().endswith("(the last good copy is unchanged)")
        assert (tmp_path / "last-good.yml").read_text() == CATALOG


async def test_a_down_url_runs_on_the_last_good_copy_and_without_one_stops(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "last-good.yml"
    current = ["down"]
    async with endpoint("GET", "/catalog.yml", served(current)) as url:
        with pytest.raises(CatalogError, match="answered 503; and there is no last good copy"):
            await asyncio.to_thread(load, url, cache)
        current[0] = CATALOG
        fresh = await asyncio.to_thread(load, url, cache)
        assert fresh.note is None and cache.is_file()
        current[0] = "down"
        fallback = await asyncio.to_thread(load, url, cache)
    assert [rt.id for c in fallback.catalog.categories for rt in c.request_types] == ["lost_parcel"]
    assert fallback.note is not None and "answered 503; using the last good copy" in fallback.note


async def test_plain_http_is_refused_off_this_machine(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="use https://"):
        load("http://catalog.example.com/c.yml", tmp_path / "c.yml")


async def test_the_bot_starts_with_the_catalog_from_the_url(
    start_bot: Callable[..., Any], tmp_path: Path
) -> None:
    async with endpoint("GET", "/catalog.yml", served([CATALOG])) as url:
        bot: Runtime = await start_bot(
            catalog_path=url, catalog_cache_path=tmp_path / "last-good.yml"
        )
    catalog = bot.cases.catalog
    assert catalog is not None
    assert [c.name for c in catalog.categories] == ["shipping"]

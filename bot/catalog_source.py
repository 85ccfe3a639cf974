"""CATALOG_PATH as a file or an https:// URL. A URL is fetched at start (and by `casebot
catalog reload`); every copy that validates is kept as the last good one
(CATALOG_CACHE_PATH), which is what runs when the URL cannot be reached or serves a broken
catalog, so a bad edit upstream never stops the desk."""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from services.triage.catalog import Catalog, CatalogError, load_catalog, parse_catalog

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10
MAX_BYTES = 1_000_000  # a catalog is a few kilobytes; more is a wrong URL
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Loaded:
    catalog: Catalog
    note: str | None = None  # why the last good copy is in use, when it is


def is_url(source: str | Path | None) -> bool:
    return isinstance(source, str) and source.startswith(("https://", "http://"))


def check_url(url: str) -> None:
    """https:// only (a catalog decides where cases go), plain http on loopback for tests."""
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise CatalogError(f"{url}: use https:// (plain http only on this machine)")


def load(source: str | Path | None, cache: Path, *, keep: bool = True) -> Loaded:
    """The catalog from a file, or from a URL with the last good copy as the fallback.

    `keep=False` (casebot check) writes nothing, not even a newer last good copy.
    """
    if not is_url(source):
        return Loaded(load_catalog(source))
    url = str(source)
    try:
        text = fetch(url)
        catalog = parse_catalog(text, url)
    except CatalogError as error:
        if not cache.is_file():
            raise CatalogError(f"{error}; and there is no last good copy at {cache}") from None
        when = datetime.fromtimestamp(cache.stat().st_mtime, UTC).isoformat(timespec="seconds")
        note = f"{error}; using the last good copy ({cache}, fetched {when})"
        log.warning("CATALOG_PATH: %s", note)
        return Loaded(load_catalog(cache), note)
    if keep:
        save(cache, text)
    return Loaded(catalog)


def fetch(url: str) -> str:
    """The catalog's text at `url`; CatalogError in one line for any failure."""
    check_url(url)
    request = urllib.request.Request(url, headers={"Accept": "application/yaml, text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise CatalogError(f"{url} answered {error.code}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise CatalogError(f"cannot fetch {url}: {reason}") from None
    if len(body) > MAX_BYTES:
        raise CatalogError(f"{url} is larger than {MAX_BYTES} bytes: not a catalog")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise CatalogError(f"{url} is not UTF-8 text") from None


def save(cache: Path, text: str) -> None:
    """Replace the last good copy atomically: a crash mid-write leaves the old one."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_name(cache.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, cache)

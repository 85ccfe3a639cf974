"""`casebot catalog reload`: fetch CATALOG_PATH's URL now, check it, keep it as the last
good copy; running processes take it at their next start."""

from __future__ import annotations

import click

from bot.catalog_source import fetch, is_url, save
from bot.settings import ConfigError, load_settings
from bot.triage_cli import fail
from services.triage.catalog import CatalogError, parse_catalog


@click.group()
def catalog() -> None:
    """The service catalog."""


@catalog.command()
def reload() -> None:
    """Fetch the catalog's URL, validate it and keep it as the last good copy."""
    try:
        settings = load_settings()
    except ConfigError as error:
        fail(str(error))
    source = settings.catalog_path
    if not is_url(source):
        fail("CATALOG_PATH is not an https:// URL: a file is read at every start as it is")
    url = str(source)
    try:
        text = fetch(url)
        found = parse_catalog(text, url)
    except CatalogError as error:
        fail(f"CATALOG_PATH: {error} (the last good copy is unchanged)")
    save(settings.catalog_cache_path, text)
    kinds = sum(len(c.request_types) for c in found.categories)
    click.echo(
        f"{len(found.categories)} categories, {kinds} request types from {url}; kept as the "
        f"last good copy in {settings.catalog_cache_path}. Processes running now use it from "
        "their next start."
    )

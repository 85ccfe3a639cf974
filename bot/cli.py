"""`casebot` (and `python -m bot`): run the bot, manage the database."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import NoReturn

import click

from bot.settings import ConfigError, Settings, load_settings
from bot.triage_cli import triage


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        _fail(str(error))


def _fail(message: str) -> NoReturn:
    click.echo(f"casebot: {message}", err=True)
    sys.exit(2)


def _logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet = max(logging.WARNING, logging.getLevelName(level))
    for chatty in ("slack_bolt", "apscheduler"):  # a line per envelope / per job run otherwise
        logging.getLogger(chatty).setLevel(quiet)


@click.group()
def main() -> None:
    """Casebot: a Slack-first customer-support case desk."""


@main.command()
def run() -> None:
    """Connect to Slack over Socket Mode and serve until stopped."""
    from bot.runtime import Runtime

    settings = _settings()
    try:
        runtime = Runtime(settings)
    except ConfigError as error:
        _fail(str(error))
    _logging(settings.log_level)
    try:
        asyncio.run(runtime.serve_forever())
    except ConfigError as error:  # found while starting, e.g. the port is taken
        _fail(str(error))


main.add_command(triage)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (also done at start)."""
    from storage.migrate import current_revision, upgrade

    settings = _settings()
    asyncio.run(upgrade(settings.database_url))
    click.echo(f"database at revision {asyncio.run(current_revision(settings.database_url))}")

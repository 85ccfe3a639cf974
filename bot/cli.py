"""`casebot` (and `python -m bot`): run the bot, manage the database."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from typing import NoReturn

import click

from bot.assist_cli import assist
from bot.catalog_cli import catalog
from bot.config import secret_values
from bot.import_cli import import_group
from bot.report_cli import report
from bot.settings import ConfigError, Settings, load_settings
from bot.triage_cli import triage


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        _fail(str(error))


def _fail(message: str) -> NoReturn:
    click.echo(f"casebot: {message}", err=True)
    _exit(2)


def _logging(settings: Settings) -> None:
    """LOG_LEVEL and LOG_FORMAT; the configured secrets never reach the log (bot/logs.py)."""
    from bot.logs import configure

    configure(settings.log_level, fmt=settings.log_format, secrets=secret_values(settings))


@click.group()
def main() -> None:
    """Casebot: a Slack-first customer-support case desk."""


@main.command()
def run() -> None:
    """Connect to Slack over Socket Mode and serve until stopped.

    With no Slack tokens at all, run the sandbox instead: a local Slack emulator and a web
    page to try the bot on, without a workspace."""
    from bot.runtime import Runtime

    settings = _settings()
    if settings.slack_bot_token is None and settings.slack_app_token is None:
        _sandbox(settings)
        return
    try:
        runtime = Runtime(settings)
    except ConfigError as error:
        _fail(str(error))
    _logging(settings)
    try:
        asyncio.run(runtime.serve_forever())
    except ConfigError as error:  # found while starting, e.g. the port is taken
        _fail(str(error))
    _exit(0)


def _exit(code: int) -> NoReturn:
    """Exit with `code`, at once even if a worker thread still runs.

    The one that does is the embedding model still importing (torch takes 5 to 10 s cold):
    Python would join it at exit, breaking the stop budget (SIGTERM: out within 10 s), and
    the import itself fails half-way once the interpreter shuts down. It holds no state; the
    database, the sockets and the logs are closed and flushed by then.
    """
    if any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _sandbox(settings: Settings) -> None:
    from bot.sandbox.run import serve_sandbox

    _logging(settings)
    click.echo("casebot: no SLACK_BOT_TOKEN or SLACK_APP_TOKEN set, so starting the sandbox")

    def announce(url: str) -> None:
        click.echo(f"casebot: sandbox ready at {url} (open it in a browser; Ctrl+C stops)")

    try:
        asyncio.run(serve_sandbox(settings, announce=announce))
    except ConfigError as error:
        _fail(str(error))
    _exit(0)


main.add_command(triage)
main.add_command(assist)
main.add_command(report)
main.add_command(import_group)
main.add_command(catalog)


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


@main.command("check")
def check_command() -> None:
    """Check the configuration, catalog, database and Slack tokens; exit 1 if any is wrong."""
    from bot.check import check

    results, ok = check()
    for result in results:
        click.echo(result.line())
    click.echo("all checks passed" if ok else "some checks failed: see FAIL above")
    sys.exit(0 if ok else 1)

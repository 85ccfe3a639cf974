"""`casebot check`: is this configuration ready to run? One plain line per check.

Checks the settings (and the SMTP and IMAP settings built from them), the service catalog,
the agents file, the database (reachable, migrations pending?), and, when Slack tokens are
set, the tokens, scopes and channels (bot/check_slack.py).
Nothing is written anywhere: a missing SQLite file is not created.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from yarl import URL

from bot.check_result import FAIL, OK, SKIP, TIMEOUT_SECONDS, Result
from bot.check_slack import slack_checks
from bot.config import agents_file, api_tokens, catalog_loaded, imap_config, smtp_config
from bot.settings import ConfigError, Settings, load_settings
from storage.engine import create_engine, is_sqlite
from storage.migrate import alembic_config, current_revision


def _configuration(settings: Settings) -> list[Result]:
    results = [Result(OK, "configuration", "every variable is valid")]
    for name, build, variable in (
        ("SMTP", smtp_config, "SMTP_SERVER"),
        ("IMAP", imap_config, "IMAP_SERVER"),
    ):
        try:
            config = build(settings)
        except ConfigError as error:
            results.append(Result(FAIL, name, str(error)))
            continue
        if config is None:
            results.append(Result(SKIP, name, f"off ({variable} not set)"))
        else:
            results.append(Result(OK, name, f"{config.host}:{config.port}"))
            if name == "IMAP":
                results.append(_mail_senders(settings))
    try:
        loaded = catalog_loaded(settings, keep=False)  # check writes nothing
    except ConfigError as error:
        results.append(Result(FAIL, "catalog", str(error)))
    else:
        found = loaded.catalog
        where = str(settings.catalog_path) if settings.catalog_path else "the shipped default"
        if loaded.note:  # the bot runs on the last good copy: say why
            where = f"CATALOG_PATH: {loaded.note}"
        kinds = sum(len(c.request_types) for c in found.categories)
        results.append(
            Result(
                OK,
                "catalog",
                f"{len(found.categories)} categories, {kinds} request types ({where})",
            )
        )
    try:
        agents = agents_file(settings)
    except ConfigError as error:
        results.append(Result(FAIL, "agents", str(error)))
    else:
        if agents is None:
            results.append(Result(SKIP, "agents", "AGENTS_PATH not set (`/case agent` adds them)"))
        else:
            results.append(Result(OK, "agents", f"{len(agents.agents)} agents in AGENTS_PATH"))
    try:
        tokens = api_tokens(settings)
    except ConfigError as error:
        results.append(Result(FAIL, "API", str(error)))
    else:
        if tokens:
            names = ", ".join(t.name for t in tokens)
            results.append(Result(OK, "API", f"on for {len(tokens)} token(s): {names}"))
        else:
            results.append(Result(SKIP, "API", "off (API_TOKENS not set)"))
    return results


def _mail_senders(settings: Settings) -> Result:
    """Whose word on a sender's address is taken: without it every sender is unvouched for,
    which costs real customers their acknowledgements in an outage and agents their replies
    by mail; an operator should hear that before the first storm, not after."""
    server = settings.trusted_authserv_id
    if server:
        return Result(
            OK,
            "mail senders",
            f"authenticated by {server} (its Authentication-Results are trusted)",
        )
    return Result(
        SKIP,
        "mail senders",
        "no sender counts as authenticated (TRUSTED_AUTHSERV_ID not set): acknowledgements "
        f"are capped at {settings.email_auto_replies_per_domain_hour} per sender domain an "
        "hour, and agents cannot answer cases by mail",
    )


def _sqlite_file_missing(url: str) -> bool:
    """A SQLite URL whose file does not exist (connecting would create it)."""
    database = make_url(url).database
    return (
        bool(is_sqlite(url) and database and database != ":memory:")
        and not Path(str(database)).exists()
    )


async def _database(url: str) -> Result:
    shown = make_url(url).render_as_string(hide_password=True)
    if _sqlite_file_missing(url):
        return Result(OK, "database", f"{shown}: no file yet; `casebot run` creates it")
    engine = create_engine(url)
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        async with asyncio.timeout(TIMEOUT_SECONDS):
            current = await current_revision(url)
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return Result(
            FAIL,
            "database",
            f"cannot connect to {shown} ({type(error).__name__}{': ' + reason if reason else ''})"
            ": is the server up? check DATABASE_URL",
        )
    finally:
        await engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if current == head:
        return Result(OK, "database", f"{shown} answers; schema up to date ({head})")
    return Result(
        OK,
        "database",
        f"{shown} answers; migrations pending ({current or 'empty'} → {head}): "
        "`casebot db upgrade` or `casebot run` applies them",
    )


async def run_checks(settings: Settings) -> list[Result]:
    """Every check, in order; the network ones concurrently."""
    results = _configuration(settings)
    network: list[Callable[[], Awaitable[list[Result]]]] = [
        lambda: _one(_database(settings.database_url)),
        lambda: slack_checks(settings),
        lambda: _one(_ticket_system(settings.ticket_api_url)),
    ]
    for found in await asyncio.gather(*(check() for check in network)):
        results.extend(found)
    return results


async def _ticket_system(url: str | None) -> Result:
    """TICKET_API_URL's host takes a connection. Nothing is sent: a POST would open a ticket."""
    name = "ticket system"
    if not url:
        return Result(SKIP, name, "off (TICKET_API_URL not set)")
    target = URL(url)
    host, port = target.host, target.port
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            _reader, writer = await asyncio.open_connection(host, port)
        writer.close()
        await writer.wait_closed()
    except (OSError, TimeoutError) as error:
        if isinstance(error, TimeoutError):
            reason = f"no answer within {TIMEOUT_SECONDS} s"
        else:  # asyncio words a refusal "Connect call failed (…)": the errno says it plainly
            reason = os.strerror(error.errno) if error.errno else str(error)
        return Result(FAIL, name, f"cannot reach {host}:{port} ({reason}); check TICKET_API_URL")
    return Result(OK, name, f"{host}:{port} takes connections (no ticket is sent by this check)")


async def _one(result: Awaitable[Result]) -> list[Result]:
    return [await result]


def check() -> tuple[list[Result], bool]:
    """The results and whether all is well (no FAIL)."""
    try:
        settings = load_settings()
    except ConfigError as error:
        return [Result(FAIL, "configuration", str(error))], False
    results = asyncio.run(run_checks(settings))
    return results, all(r.status != FAIL for r in results)

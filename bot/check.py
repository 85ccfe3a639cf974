"""`casebot check`: is this configuration ready to run? One plain line per check.

Checks the settings (and the SMTP and IMAP settings built from them), the service catalog,
the agents file, the database (reachable, migrations pending?), and, when Slack tokens are
set, the tokens themselves, the bot token's scopes against what the code needs
(handlers/slack/scopes.py) and the configured channels (found, and the bot a member).
Nothing is written anywhere: a missing SQLite file is not created.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from yarl import URL

from bot.config import agents_file, api_tokens, catalog_loaded, imap_config, smtp_config
from bot.settings import ConfigError, Settings, load_settings
from handlers.slack.channels import UnknownChannel, resolve_channels
from handlers.slack.client import response_header
from handlers.slack.routing import Channels
from handlers.slack.scopes import missing as missing_scopes
from services.triage.catalog import TeamChannels
from storage.engine import create_engine, is_sqlite
from storage.migrate import alembic_config, current_revision

OK, FAIL, SKIP = "ok", "FAIL", "skip"
TIMEOUT_SECONDS = 10  # per network check: an unreachable host must not hang the command


@dataclass(frozen=True)
class Result:
    status: str  # ok | FAIL | skip
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<5} {self.name}: {self.detail}"


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


async def _slack(settings: Settings) -> list[Result]:
    if not settings.slack_bot_token and not settings.slack_app_token:
        return [Result(SKIP, "Slack", "SLACK_BOT_TOKEN and SLACK_APP_TOKEN not set")]
    try:
        settings.require_slack()
    except ConfigError as error:
        return [Result(FAIL, "Slack", str(error))]
    bot = AsyncWebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=TIMEOUT_SECONDS
    )
    results: list[Result] = []
    try:
        auth = await bot.auth_test()
    except (SlackApiError, OSError, TimeoutError) as error:
        return [Result(FAIL, "Slack bot token", _slack_error(error, "SLACK_BOT_TOKEN"))]
    results.append(Result(OK, "Slack bot token", f"{auth.get('user')} in {auth.get('team')}"))
    results.append(_scopes(auth.headers))
    try:
        await bot.apps_connections_open(app_token=str(settings.slack_app_token))
        results.append(Result(OK, "Slack app token", "Socket Mode may connect"))
    except (SlackApiError, OSError, TimeoutError) as error:
        detail = _slack_error(error, "SLACK_APP_TOKEN")
        results.append(Result(FAIL, "Slack app token", f"{detail} (needs connections:write)"))
    try:
        channels = await resolve_channels(
            bot,
            support=str(settings.support_slack_channel),
            alerts=settings.alerting_slack_channel,
            log=settings.logging_slack_channel,
            intake=settings.intake_slack_channels,
            teams=_teams(settings),
        )
        results.append(Result(OK, "Slack channels", "every configured channel found"))
        results.append(await _membership(bot, channels))
    except UnknownChannel as error:
        results.append(Result(FAIL, "Slack channels", f"{error} ({error.setting})"))
    except (SlackApiError, OSError, TimeoutError) as error:
        results.append(Result(FAIL, "Slack channels", _slack_error(error, "SLACK_BOT_TOKEN")))
    return results


def _teams(settings: Settings) -> dict[str, TeamChannels]:
    """The catalog's team channels (a catalog that does not load is reported on its own)."""
    try:
        return catalog_loaded(settings, keep=False).catalog.teams()
    except ConfigError:
        return {}


def _slack_error(error: Exception, variable: str) -> str:
    if isinstance(error, SlackApiError):
        code = error.response.get("error") if error.response is not None else None
        return f"Slack refused it ({code or error}): check {variable}"
    return f"Slack does not answer ({type(error).__name__}: {error}): check SLACK_API_URL"


def _scopes(headers: dict[str, object]) -> Result:
    """The token's granted scopes (auth.test's `x-oauth-scopes`) against what the code needs."""
    granted_header = response_header(headers, "x-oauth-scopes")
    if granted_header is None:
        return Result(SKIP, "Slack scopes", "Slack did not say the token's scopes")
    granted = {s.strip() for s in granted_header.split(",") if s.strip()}
    lacking = missing_scopes(granted)
    if lacking:
        named = "; ".join(f"{scope} ({feature})" for scope, feature in lacking.items())
        return Result(
            FAIL,
            "Slack scopes",
            f"the bot token lacks {named}: add them under OAuth & Permissions (or update the "
            "app from manifest.yml), reinstall the app and set the new SLACK_BOT_TOKEN",
        )
    return Result(OK, "Slack scopes", "every scope the bot uses is granted")


async def _membership(bot: AsyncWebClient, channels: Channels) -> Result:
    """The bot must be in every configured channel: Slack refuses posts and hides messages
    from channels it was not invited to."""
    configured = [
        ("SUPPORT_SLACK_CHANNEL", channels.support),
        ("ALERTING_SLACK_CHANNEL", channels.alerts),
        ("LOGGING_SLACK_CHANNEL", channels.log),
        *(("INTAKE_SLACK_CHANNELS", c) for c in sorted(channels.intake)),
        *(
            (f"catalog: {type_id}", channel)
            for type_id, team in sorted(channels.teams.items())
            for channel in (team.cards, team.alerts)
        ),
    ]
    outside: list[str] = []
    seen: set[str] = set()
    for variable, channel_id in configured:
        if channel_id in seen:
            continue
        seen.add(channel_id)
        info = (await bot.conversations_info(channel=channel_id)).get("channel") or {}
        if not info.get("is_member") and not info.get("is_im"):
            outside.append(f"#{info.get('name', channel_id)} ({channel_id}, {variable})")
    if outside:
        return Result(
            FAIL,
            "Slack membership",
            f"the bot is not in {', '.join(outside)}: `/invite @casebot` in each",
        )
    return Result(OK, "Slack membership", "the bot is in every configured channel")


async def run_checks(settings: Settings) -> list[Result]:
    """Every check, in order; the network ones concurrently."""
    results = _configuration(settings)
    network: list[Callable[[], Awaitable[list[Result]]]] = [
        lambda: _one(_database(settings.database_url)),
        lambda: _slack(settings),
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

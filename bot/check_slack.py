"""`casebot check`'s Slack part: the two tokens, the bot token's scopes against what the code
needs (handlers/slack/scopes.py), and the configured channels (found, and the bot a member)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.check_result import FAIL, OK, SKIP, TIMEOUT_SECONDS, Result
from bot.config import catalog_loaded
from bot.settings import ConfigError, Settings
from handlers.slack.channels import UnknownChannel, resolve_channels
from handlers.slack.client import response_header
from handlers.slack.routing import Channels
from handlers.slack.scopes import missing as missing_scopes
from services.triage.catalog import TeamChannels


async def slack_checks(settings: Settings) -> list[Result]:
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

"""The settings turned into what the parts take (the catalog, the agents file, API tokens,
mail server configs), each validated with a one-line error naming its variable."""

from __future__ import annotations

from bot import catalog_source
from bot.catalog_source import Loaded
from bot.settings import ConfigError, Settings
from handlers.api.tokens import ApiToken, TokensError, parse_tokens
from handlers.email.poller import ImapConfig
from handlers.email.smtp_sender import SmtpConfig
from services.routing import AgentsError, AgentsFile, read_agents_file
from services.triage.catalog import Catalog, CatalogError


def catalog(settings: Settings) -> Catalog:
    """The service catalog, validated; a bad one stops start-up naming CATALOG_PATH."""
    return catalog_loaded(settings).catalog


def catalog_loaded(settings: Settings, *, keep: bool = True) -> Loaded:
    """The catalog with a note when a URL's last good copy stands in for it."""
    try:
        return catalog_source.load(settings.catalog_path, settings.catalog_cache_path, keep=keep)
    except CatalogError as error:
        raise ConfigError(f"CATALOG_PATH: {error}") from None


def agents_file(settings: Settings) -> AgentsFile | None:
    """The agents file, validated; a bad one stops start-up naming AGENTS_PATH."""
    if settings.agents_path is None:
        return None
    try:
        return read_agents_file(settings.agents_path)
    except AgentsError as error:
        raise ConfigError(f"AGENTS_PATH: {error}") from None


def api_tokens(settings: Settings) -> tuple[ApiToken, ...]:
    """The API's bearer tokens, validated; a bad value stops start-up naming API_TOKENS."""
    try:
        return parse_tokens(settings.api_tokens)
    except TokensError as error:
        raise ConfigError(f"API_TOKENS: {error}") from None


def smtp_config(settings: Settings) -> SmtpConfig | None:
    """Outbound email, when configured; SUPPORT_EMAIL is then required."""
    if not settings.smtp_server:
        return None
    if not settings.support_email or "@" not in settings.support_email:
        raise ConfigError("SUPPORT_EMAIL: required (an address) when SMTP_SERVER is set")
    tls = settings.smtp_tls if settings.smtp_tls is not None else settings.smtp_port == 465
    return SmtpConfig(
        host=settings.smtp_server,
        port=settings.smtp_port,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls and not tls,
        tls=tls,
        max_connections=settings.smtp_max_connections,
    )


def imap_config(settings: Settings) -> ImapConfig | None:
    """Inbound email, when configured; the account and its password are then required."""
    if not settings.imap_server:
        return None
    for name, value in (
        ("IMAP_EMAIL", settings.imap_email),
        ("IMAP_PASSWORD", settings.imap_password),
    ):
        if not value:
            raise ConfigError(f"{name}: required when IMAP_SERVER is set")
    return ImapConfig(
        host=settings.imap_server,
        port=settings.imap_port,
        user=str(settings.imap_email),
        password=str(settings.imap_password),
        ssl=settings.imap_ssl,
        mailbox=settings.imap_mailbox,
        poll_interval=settings.email_poll_interval,
        max_bytes=settings.email_max_bytes,
    )


SECRET_SETTINGS = (
    "slack_bot_token",
    "slack_app_token",
    "imap_password",
    "smtp_password",
    "anthropic_api_key",
    "webhook_secret",
    "ticket_api_token",
)


def secret_values(settings: Settings) -> list[str]:
    """The configured tokens, passwords and keys: never logged (bot/logs.py redacts them)."""
    found = [str(value) for name in SECRET_SETTINGS if (value := getattr(settings, name))]
    try:
        found += [token.token for token in parse_tokens(settings.api_tokens)]
    except TokensError:
        found += [settings.api_tokens or ""]  # unparsed: the whole value stays out of logs
    return [value for value in found if value]

"""Typed configuration from the environment (and `.env`), validated once at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.attachments import DEFAULT_TYPES, AttachmentPolicy
from services.report_schedule import report_timezone, report_trigger
from services.rules import DEFAULT_URGENT_KEYWORDS, RulesConfig
from services.storms import StormConfig
from services.types import ReplyVoice
from storage.engine import async_url

CommaList = Annotated[list[str], NoDecode]


class ConfigError(Exception):
    """A configuration problem, worded as the one line an operator needs to read."""


class Settings(BaseSettings):
    """Every variable of the configuration contract in DESIGN.md, with its default."""

    # Empty values (as in a copied .env.example) mean "not set", i.e. the default.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    support_slack_channel: str | None = None
    alerting_slack_channel: str | None = None
    logging_slack_channel: str | None = None
    intake_slack_channels: CommaList = Field(default_factory=list)
    agent_user_ids: CommaList = Field(default_factory=list)
    agent_usergroup: str | None = None

    database_url: str = "sqlite+aiosqlite:///./casebot.db"

    imap_server: str | None = None
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_email: str | None = None
    imap_password: str | None = None
    imap_ssl: bool = True
    imap_mailbox: str = "INBOX"

    smtp_server: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_max_connections: int = Field(default=4, ge=1, le=100)  # at once, per process
    # Implicit TLS from the first byte; unset means "on for port 465" (STARTTLS is then off).
    smtp_tls: bool | None = None
    support_email: str | None = None
    # The team's name on replies: "Agnes (Acme Support)", or the team's only when
    # REPLIES_SHOW_AGENT is false (Slack: the post's name and avatar; mail: From and signature).
    support_team_name: str = Field(default="Support", min_length=1, max_length=60)
    # The reaction (emoji name, without colons) that opens a case from any message.
    case_reaction: str = Field(default="ticket", pattern=r"^[a-z0-9_+\-']{1,100}$")
    replies_show_agent: bool = True
    # Agents may answer by email only from these addresses, and only when authenticated.
    admin_emails: CommaList = Field(default_factory=list)
    # The authserv-id of the receiving mail server whose Authentication-Results are trusted.
    trusted_authserv_id: str | None = None
    # A mail larger than this is not fetched: its header is quarantined with the reason.
    email_max_bytes: int = Field(default=25_000_000, ge=10_000)
    # Automatic mails (acknowledgement, reminder, resolution) to one address per hour ...
    email_auto_replies_per_hour: int = Field(default=5, ge=1)
    # ... acknowledgements to one domain's senders that trusted_authserv_id did not
    # authenticate (forged senders by the hundred are cut off, real ones never) ...
    email_auto_replies_per_domain_hour: int = Field(default=50, ge=1)
    # ... and automatic mails in all.
    email_auto_replies_total_hour: int = Field(default=5000, ge=1)
    # Largest file kept and passed on (an email's attachments, files shared in Slack, an
    # agent's files to a customer); bigger ones are only listed.
    attachment_upload_max_bytes: int = Field(default=1_000_000, ge=0)
    # Types of files shared in Slack that are kept and passed on (`image/*` patterns).
    attachment_types: CommaList = Field(default_factory=lambda: list(DEFAULT_TYPES))

    webhook_secret: str | None = None
    webhook_reply_url: str | None = None
    # Signed webhook requests older (or newer) than this are refused as stale.
    webhook_max_age_seconds: int = Field(default=300, ge=1)

    # The HTTP API: comma-separated name:token pairs (tokens of 16+ characters); the name is
    # the actor in the audit trail. Unset: the API is off (its routes answer 404).
    api_tokens: str | None = None
    # Requests per minute per token, in bursts of up to API_RATE_BURST (then 429).
    api_rate_per_minute: float = Field(default=120.0, gt=0)
    api_rate_burst: int = Field(default=30, ge=1)

    # External ticket system: each new case is POSTed to TICKET_API_URL (with
    # `Authorization: Bearer TICKET_API_TOKEN` when set); off while the URL is unset.
    ticket_api_url: str | None = None
    ticket_api_token: str | None = None
    ticket_api_timeout_seconds: float = Field(default=10.0, gt=0)

    escalation_inactivity_hours: float = Field(default=48.0, gt=0)
    escalation_followups: int = Field(default=3, ge=1)
    urgent_keywords: CommaList = Field(default_factory=lambda: list(DEFAULT_URGENT_KEYWORDS))
    reminder_hours: float = Field(default=24.0, gt=0)
    # Resolved cases close on their own this long after (0: never); the log line says
    # "by casebot (auto)".
    auto_close_days: float = Field(default=7.0, ge=0)
    # A customer who has not answered an agent's question this long is nudged once (0: never).
    customer_nudge_hours: float = Field(default=48.0, ge=0)
    reopen_window_hours: float = Field(default=72.0, ge=0)
    # An agent's thread reply reaches the customer this long after it was written: in the
    # window the agent can undo it (a button only they see), edit it or delete it (0: at once).
    reply_undo_seconds: float = Field(default=10.0, ge=0, le=300)
    escalation_check_interval: float = Field(default=300.0, gt=0)
    email_poll_interval: float = Field(default=30.0, gt=0)
    # Several processes on one PostgreSQL: a process that stops renewing its leases (its
    # heartbeat, the IMAP mailbox, outbox rows in delivery) for this long counts as dead,
    # and another process takes over its work.
    lease_seconds: float = Field(default=15.0, ge=1)
    # Seconds between Socket Mode pings; a connection that drops without a close frame is
    # noticed (and replaced) within about two of these.
    socket_mode_ping_interval: float = Field(default=10.0, gt=0)
    # Posts per second into one Slack channel (Slack allows about 1, with short bursts);
    # the rest wait their turn in the outbox.
    slack_posts_per_second: float = Field(default=1.0, gt=0)
    # A failed delivery (Slack, SMTP, webhook) is retried after 1, 2, 4 … seconds, at most
    # OUTBOX_RETRY_MAX_SECONDS apart, and given up (audited, left in the outbox as dead)
    # after OUTBOX_MAX_ATTEMPTS: by default after about two hours of outage.
    outbox_retry_max_seconds: float = Field(default=300.0, gt=0)
    outbox_max_attempts: int = Field(default=30, ge=1)

    # Triage: a service catalog of your own (a YAML file, or an https:// URL fetched at start)
    # instead of the shipped default.
    catalog_path: str | None = None
    # A URL's last copy that validated: used when the URL fails at start.
    catalog_cache_path: Path = Path("./catalog.last-good.yml")
    # The local classifier (all-MiniLM-L6-v2); off means keyword rules only.
    triage_local_model: bool = True
    # Threads the local model encodes with; 0: every core but one, which the event loop
    # keeps (on 2 cores, intake ran 67 → 83 messages/s and acks waited less).
    triage_encoder_threads: int = Field(default=0, ge=0)
    # Claude triage, when a key is set (else the local classifier is the default).
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    llm_model: str = "claude-haiku-4-5"
    llm_timeout_seconds: float = Field(default=10.0, gt=0)
    # Texts per Claude call in `casebot triage backlog`.
    llm_batch_size: int = Field(default=30, ge=1, le=100)
    # Routing: agents' skills and capacity (YAML); `/case agent …` changes them at run time.
    agents_path: Path | None = None
    # Storm folding: more than STORM_THRESHOLD open cases this similar (cosine) within
    # STORM_WINDOW_MINUTES become one master incident.
    storm_threshold: int = Field(default=10, ge=1)
    storm_window_minutes: float = Field(default=30.0, gt=0)
    storm_similarity: float = Field(default=0.8, gt=0, le=1)

    # Reports (XLSX): mailed to REPORT_RECIPIENTS on REPORT_CRON (crontab, in
    # REPORT_TIMEZONE) and on `/case report`; closed and resolved cases of the last
    # REPORT_WINDOW_DAYS are listed after the open ones.
    report_recipients: CommaList = Field(default_factory=list)
    report_cron: str | None = None
    report_timezone: str = "UTC"
    report_window_days: float = Field(default=7.0, gt=0)
    report_retention_days: float = Field(default=90.0, gt=0)  # then the file is deleted

    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=0, le=65535)
    # Where customers reach this HTTP server from outside (https://support.example.com): mails
    # carry one-click rating links under it. Unset: email customers are not asked to rate.
    public_url: str | None = None
    log_level: str = "INFO"
    # text: one readable line per record; json: one JSON object per line (for log shippers).
    log_format: str = "text"

    @property
    def attachments(self) -> AttachmentPolicy:
        return AttachmentPolicy(
            max_bytes=self.attachment_upload_max_bytes, types=tuple(self.attachment_types)
        )

    @field_validator(
        "intake_slack_channels",
        "agent_user_ids",
        "urgent_keywords",
        "admin_emails",
        "report_recipients",
        "attachment_types",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("attachment_types")
    @classmethod
    def _default_types(cls, value: list[str]) -> list[str]:
        """Unset or empty: the default types (no type at all would refuse every file)."""
        return value or list(DEFAULT_TYPES)

    @field_validator("admin_emails")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an email address")
        return [address.lower() for address in value]

    @field_validator("report_recipients")
    @classmethod
    def _report_addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an email address")
        return value

    @field_validator("report_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return report_timezone(value).key

    @field_validator("report_cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            report_trigger(value, "UTC")  # a ValueError names what is wrong with it
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return async_url(value)

    @field_validator("ticket_api_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value is not None else None

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value.lower() not in {"text", "json"}:
            raise ValueError("must be text or json")
        return value.lower()

    @property
    def reply_voice(self) -> ReplyVoice:
        return ReplyVoice(team=self.support_team_name.strip(), show_agent=self.replies_show_agent)

    @property
    def storms(self) -> StormConfig:
        """Storm folding's thresholds."""
        return StormConfig(
            threshold=self.storm_threshold,
            window_minutes=self.storm_window_minutes,
            similarity=self.storm_similarity,
        )

    @property
    def rules(self) -> RulesConfig:
        """The thresholds the case service applies."""
        return RulesConfig(
            inactivity_hours=self.escalation_inactivity_hours,
            followups=self.escalation_followups,
            urgent_keywords=tuple(self.urgent_keywords),
            reopen_window_hours=self.reopen_window_hours,
            reply_undo_seconds=self.reply_undo_seconds,
            ratings_by_email=self.public_url is not None,
        )

    def require_slack(self) -> None:
        """Refuse to start without what a Slack connection needs, naming the variables."""
        missing = [
            name
            for name, value in (
                ("SLACK_BOT_TOKEN", self.slack_bot_token),
                ("SLACK_APP_TOKEN", self.slack_app_token),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} not set: create the Slack app from manifest.yml "
                "(api.slack.com/apps > Create New App > From a manifest), install it, then set "
                "SLACK_BOT_TOKEN (xoxb-…), SLACK_APP_TOKEN (xapp-…) and SUPPORT_SLACK_CHANNEL "
                "in the environment or .env (see .env.example)"
            )
        if not str(self.slack_bot_token).startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        if not str(self.slack_app_token).startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        if not self.support_slack_channel:
            raise ConfigError(
                "SUPPORT_SLACK_CHANNEL not set: the channel id or name for case cards"
            )


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        message = re.sub(r"^Value error, ", "", error["msg"])
        raise ConfigError(
            f"{variable}: {message} ({_shown(variable, error.get('input'))})"
        ) from None


_SECRET_NAMES = ("PASSWORD", "TOKEN", "SECRET", "KEY")


def _shown(variable: str, value: object) -> str:
    """The bad value for the error line, without a secret: a password in a URL, a token."""
    if any(word in variable for word in _SECRET_NAMES):
        return "value not shown: it is a secret"
    return "got " + repr(re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", str(value)))

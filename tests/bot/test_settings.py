"""The configuration contract: defaults, a copied .env.example, one-line errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.config import smtp_config
from bot.settings import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r"([A-Z][A-Z0-9_]*)=")


def test_a_copied_env_example_loads_with_the_documented_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.escalation_followups == 3 and settings.reminder_hours == 24
    assert settings.smtp_server is None and settings.smtp_tls is None
    assert settings.admin_emails == [] and settings.email_auto_replies_per_hour == 5
    assert settings.webhook_secret is None and settings.port == 8000
    assert settings.catalog_path is None and settings.anthropic_api_key is None
    assert settings.storms.threshold == 10 and settings.llm_model == "claude-haiku-4-5"


def test_every_setting_is_documented_in_env_example() -> None:
    """Each variable once, right under a comment that says what it is; nothing stale."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    variables = [(i, match[1]) for i, line in enumerate(lines) if (match := VARIABLE.match(line))]
    names = [name for _, name in variables]
    assert sorted(names) == sorted(name.upper() for name in Settings.model_fields)
    assert len(names) == len(set(names)), "a variable listed twice: the later one wins"
    uncommented = [name for i, name in variables if not lines[i - 1].startswith("# ")]
    assert uncommented == []


@pytest.mark.parametrize(
    ("port", "tls", "expect_tls", "expect_starttls"),
    [(587, None, False, True), (465, None, True, False), (2525, True, True, False)],
)
def test_implicit_tls_for_port_465_unless_told(
    port: int, tls: bool | None, expect_tls: bool, expect_starttls: bool
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        smtp_server="smtp.example.com",
        smtp_port=port,
        smtp_tls=tls,
        support_email="support@example.com",
    )
    config = smtp_config(settings)
    assert config is not None
    assert (config.tls, config.starttls) == (expect_tls, expect_starttls)


def test_admin_addresses_are_lower_cased_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_EMAILS", "Lead@Example.com, ops@example.com")
    assert load_settings(_env_file=None).admin_emails == ["lead@example.com", "ops@example.com"]
    monkeypatch.setenv("ADMIN_EMAILS", "lead")
    with pytest.raises(ConfigError, match=r"^ADMIN_EMAILS: 'lead' is not an email address"):
        load_settings(_env_file=None)

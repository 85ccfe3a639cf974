"""docker-compose.yml and its mail profile hang together (no Docker engine here: read them).

The bot's settings in compose and in deploy/mail.env must be ones Casebot accepts, the mail
settings must name the profile's services with the mailbox's own credentials, and Dovecot
must accept its config file.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import imap_config, smtp_config
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_the_bot_runs_on_the_compose_postgresql() -> None:
    services = compose()["services"]
    assert {name for name, s in services.items() if not s.get("profiles")} == {
        "postgres",
        "casebot",
    }
    bot = services["casebot"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    settings = Settings(_env_file=None, database_url=bot["environment"]["DATABASE_URL"])  # type: ignore[call-arg]
    credentials = services["postgres"]["environment"]
    assert settings.database_url == (
        f"postgresql+asyncpg://{credentials['POSTGRES_USER']}:{credentials['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{credentials['POSTGRES_DB']}"
    )
    for mount in services["dovecot"]["volumes"]:
        assert (ROOT / mount.split(":")[0]).is_file(), mount


def test_the_mail_profile_settings_reach_its_services_with_the_mailbox_credentials() -> None:
    services = compose()["services"]
    assert services["dovecot"]["profiles"] == services["mailpit"]["profiles"] == ["mail"]
    settings = Settings(_env_file=ROOT / "deploy" / "mail.env")  # type: ignore[call-arg]
    imap, smtp = imap_config(settings), smtp_config(settings)
    assert imap is not None and smtp is not None
    assert (imap.host, imap.port) == ("dovecot", 143)
    assert (smtp.host, smtp.port) == ("mailpit", 1025)
    passwd = (ROOT / "deploy" / "dovecot" / "passwd").read_text().splitlines()
    assert f"{settings.imap_email}:{{PLAIN}}{settings.imap_password}::::::" in passwd


def test_dovecot_accepts_the_profile_config() -> None:
    doveconf = shutil.which("doveconf") or "/usr/bin/doveconf"
    if not Path(doveconf).exists():
        pytest.skip("doveconf not installed (apt-get install dovecot-imapd)")
    config = ROOT / "deploy" / "dovecot" / "dovecot.conf"
    checked = subprocess.run(
        [doveconf, "-n", "-c", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert "mail_location = maildir:/tmp/mail/%u" in checked.stdout

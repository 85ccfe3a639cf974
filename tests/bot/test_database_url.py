"""A DATABASE_URL that cannot be used at start: `casebot run` prints one line naming the
variable and the reason (never the password, never a traceback) and exits non-zero, so
that its supervisor restarts it once the database is back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.availability import describe_failure

PASSWORD = "s3cret-Pa55"
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_APP_TOKEN": "xapp-test",
    "SUPPORT_SLACK_CHANNEL": "C0SUPPORT",
    "TRIAGE_LOCAL_MODEL": "false",
}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"postgresql+asyncpg://casebot:{PASSWORD}@127.0.0.1:1/casebot", "Connect call failed"),
        (f"postgresql+asyncpg://nobody_{os.getpid()}:{PASSWORD}@127.0.0.1:5432/test", "nobody"),
        ("sqlite+aiosqlite:////nonexistent-dir/casebot.db", "unable to open database file"),
    ],
    ids=["server-refuses", "unknown-role", "no-such-directory"],  # the same in every worker
)
def test_an_unusable_database_is_one_line_and_exit_2(url: str, reason: str, tmp_path: Path) -> None:
    if ":5432/" in url and not os.environ.get("TEST_POSTGRES_URL"):
        pytest.skip("needs the local PostgreSQL server to refuse the role")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env={**ENV, "DATABASE_URL": url},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 2
    assert len(said) == 1, said
    assert said[0].startswith("casebot: DATABASE_URL: cannot use the ")
    assert reason in said[0] and PASSWORD not in said[0]


def test_the_password_never_shows_even_when_the_driver_repeats_it() -> None:
    line = describe_failure(
        f"postgresql+asyncpg://u:{PASSWORD}@db.internal:6543/cases",
        OSError(f"password {PASSWORD} refused"),
    )
    assert (
        line == "DATABASE_URL: cannot use the postgresql at db.internal:6543/cases "
        "(OSError: password *** refused)"
    )

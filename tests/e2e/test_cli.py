"""The `casebot` command as an operator runs it, in a real process."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

from alembic.script import ScriptDirectory

from bot.sandbox.emulator import SlackEmulator
from storage.migrate import alembic_config
from tests.e2e.cli import CLEAN_ENV, casebot
from tests.e2e.conftest import CUSTOMER, INTAKE, card


async def test_run_with_half_the_tokens_says_what_to_set_in_one_line(tmp_path: Path) -> None:
    """No tokens at all is the sandbox (tests/sandbox); one of the two is a mistake."""
    env = {**CLEAN_ENV, "SLACK_BOT_TOKEN": "xoxb-1-2-3"}
    process = await casebot("run", env=env, cwd=tmp_path)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)

    assert process.returncode == 2
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "SLACK_APP_TOKEN" in lines[0] and "SLACK_BOT_TOKEN" not in lines[0].split(" not set")[0]
    assert "manifest.yml" in lines[0]


async def test_bad_configuration_names_the_variable(tmp_path: Path) -> None:
    env = {**CLEAN_ENV, "ESCALATION_FOLLOWUPS": "three"}
    process = await casebot("db", "upgrade", env=env, cwd=tmp_path)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)

    assert process.returncode == 2
    assert stderr.decode().startswith("casebot: ESCALATION_FOLLOWUPS:")


async def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    env = {**CLEAN_ENV, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    process = await casebot("db", "upgrade", env=env, cwd=tmp_path)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode == 0, stderr.decode()
    head = ScriptDirectory.from_config(alembic_config(env["DATABASE_URL"])).get_current_head()
    assert f"database at revision {head}" in stdout.decode()
    assert (tmp_path / "x.db").exists()


async def test_the_documents_synchronous_database_urls_work_as_written(
    tmp_path: Path, db_url: str
) -> None:
    """The case-management document's own DATABASE_URL examples: `sqlite:///…` and
    `postgresql://…` run with the async driver; `casebot check` agrees with `db upgrade`."""
    plain = db_url.replace("+aiosqlite", "").replace("+asyncpg", "")
    if plain.startswith("sqlite"):
        plain = "sqlite:///./case_management.db"  # relative, as the document writes it
    env = {**CLEAN_ENV, "DATABASE_URL": plain}
    process = await casebot("db", "upgrade", env=env, cwd=tmp_path)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert "database at revision" in stdout.decode()

    process = await casebot("check", env=env, cwd=tmp_path)
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert "schema up to date" in stdout.decode(), stdout.decode()
    if plain.startswith("sqlite"):
        assert (tmp_path / "case_management.db").exists()


async def test_an_unsupported_database_driver_is_one_line_in_both_commands(
    tmp_path: Path,
) -> None:
    env = {**CLEAN_ENV, "DATABASE_URL": "mysql://casebot:sekret@db.example/casebot"}
    upgrade = await casebot("db", "upgrade", env=env, cwd=tmp_path)
    _, stderr = await asyncio.wait_for(upgrade.communicate(), timeout=60)
    check = await casebot("check", env=env, cwd=tmp_path)
    stdout, _ = await asyncio.wait_for(check.communicate(), timeout=60)

    assert upgrade.returncode == 2 and check.returncode == 1
    [line] = stderr.decode().strip().splitlines()
    assert line.startswith("casebot: DATABASE_URL: the mysql driver is not supported")
    assert "mysql://casebot:***@db.example/casebot" in line and "sekret" not in line
    assert stdout.decode().startswith("FAIL  configuration: DATABASE_URL: the mysql driver")


async def test_run_serves_slack_and_stops_cleanly_on_sigterm(
    slack: SlackEmulator, tmp_path: Path
) -> None:
    env = {
        **CLEAN_ENV,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": "xapp-test",
        "SLACK_API_URL": slack.api_url,
        "SUPPORT_SLACK_CHANNEL": "support",
        "INTAKE_SLACK_CHANNELS": INTAKE,
        "AGENT_USER_IDS": "UAGENT",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'casebot.db'}",
        "HOST": "127.0.0.1",
        "PORT": "0",
    }
    process = await casebot("run", env=env, cwd=tmp_path)
    try:
        await slack.wait_connected(timeout=60)
        await slack.user_message(CUSTOMER, INTAKE, "Hello from a real process")
        await card(slack, 1, within=60)  # a new process: the first case waits for the model
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 0, stderr.decode()[-2000:]


async def test_a_taken_port_stops_start_up_with_one_line(
    slack: SlackEmulator, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **CLEAN_ENV,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_APP_TOKEN": "xapp-test",
            "SLACK_API_URL": slack.api_url,
            "SUPPORT_SLACK_CHANNEL": "support",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'casebot.db'}",
            "HOST": "127.0.0.1",
            "PORT": str(port),
        }
        process = await casebot("run", env=env, cwd=tmp_path)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode == 2
    last = stderr.decode().strip().splitlines()[-1]
    assert last.startswith(f"casebot: PORT: cannot listen on 127.0.0.1:{port}"), last
    assert "Traceback" not in stderr.decode()

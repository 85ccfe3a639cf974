"""`casebot check` as an operator runs it: one line per check, exit 1 when something is wrong."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from bot.sandbox.emulator import SlackEmulator
from tests.e2e.cli import CLEAN_ENV, casebot
from tests.e2e.conftest import ALERTS, INTAKE


def slack_env(slack: SlackEmulator, database_url: str) -> dict[str, str]:
    return {
        **CLEAN_ENV,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": "xapp-test",
        "SLACK_API_URL": slack.api_url,
        "SUPPORT_SLACK_CHANNEL": "#support",
        "ALERTING_SLACK_CHANNEL": ALERTS,
        "INTAKE_SLACK_CHANNELS": INTAKE,
        "DATABASE_URL": database_url,
    }


async def check(env: dict[str, str], cwd: Path) -> tuple[int, list[str]]:
    process = await casebot("check", env=env, cwd=cwd)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert "Traceback" not in stderr.decode(), stderr.decode()
    assert process.returncode is not None
    return process.returncode, stdout.decode().splitlines()


def line(lines: list[str], name: str) -> str:
    return next(x for x in lines if x.split(maxsplit=1)[1].startswith(f"{name}:"))


async def test_a_good_configuration_passes_every_check(
    slack: SlackEmulator, db_url: str, tmp_path: Path
) -> None:
    code, lines = await check(slack_env(slack, db_url), tmp_path)

    assert code == 0, lines
    assert lines[-1] == "all checks passed"
    for name in ("configuration", "catalog", "database", "Slack bot token", "Slack scopes"):
        assert line(lines, name).startswith("ok "), lines
    assert "schema up to date" in line(lines, "database")
    assert line(lines, "Slack channels") == "ok    Slack channels: every configured channel found"
    assert line(lines, "Slack membership") == (
        "ok    Slack membership: the bot is in every configured channel"
    )
    assert line(lines, "SMTP") == "skip  SMTP: off (SMTP_SERVER not set)"
    assert line(lines, "API") == "skip  API: off (API_TOKENS not set)"
    assert line(lines, "ticket system") == "skip  ticket system: off (TICKET_API_URL not set)"


async def test_a_reachable_ticket_system_passes_and_gets_no_request(tmp_path: Path) -> None:
    accepted: list[bytes] = []

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(await reader.read())  # until the check hangs up
        writer.close()

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        env = {**CLEAN_ENV, "TICKET_API_URL": f"http://user:pw@127.0.0.1:{port}/v2/tickets"}
        code, lines = await check(env, tmp_path)

    assert code == 0, lines
    assert line(lines, "ticket system") == (
        f"ok    ticket system: 127.0.0.1:{port} takes connections (no ticket is sent by this check)"
    )
    assert accepted == [b""], "connected, sent nothing"


async def test_a_missing_scope_and_an_unknown_channel_are_named(
    slack: SlackEmulator, tmp_path: Path
) -> None:
    slack.api.granted = slack.api.granted - {"usergroups:read", "im:write"}
    env = slack_env(slack, f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    env["LOGGING_SLACK_CHANNEL"] = "#nowhere"
    code, lines = await check(env, tmp_path)

    assert code == 1
    scopes = line(lines, "Slack scopes")
    assert scopes.startswith(
        "FAIL  Slack scopes: the bot token lacks im:write (opening the DM an agent's /case report"
        " is shared in); usergroups:read (AGENT_USERGROUP membership (who counts as an agent)):"
    ), scopes
    assert "SLACK_BOT_TOKEN" in scopes
    assert line(lines, "Slack channels").startswith("FAIL  Slack channels: channel '#nowhere'")
    assert "no file yet" in line(lines, "database")
    assert not (tmp_path / "new.db").exists(), "check writes nothing"


async def test_a_channel_the_bot_was_not_invited_to_is_named(
    slack: SlackEmulator, db_url: str, tmp_path: Path
) -> None:
    slack.add_channel("CPRIVATE", "vip-help", is_private=True, is_member=False)
    env = slack_env(slack, db_url)
    env["INTAKE_SLACK_CHANNELS"] = f"{INTAKE},CPRIVATE"
    code, lines = await check(env, tmp_path)

    assert code == 1
    assert line(lines, "Slack membership") == (
        "FAIL  Slack membership: the bot is not in #vip-help (CPRIVATE, INTAKE_SLACK_CHANNELS):"
        " `/invite @casebot` in each"
    )


async def test_a_rejected_token_is_named(slack: SlackEmulator, tmp_path: Path) -> None:
    env = slack_env(slack, f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    env["SLACK_BOT_TOKEN"] = "xoxb-revoked"
    code, lines = await check(env, tmp_path)
    assert code == 1
    assert line(lines, "Slack bot token") == (
        "FAIL  Slack bot token: Slack refused it (invalid_auth): check SLACK_BOT_TOKEN"
    )


async def test_an_unreachable_database_and_a_bad_catalog_fail_in_plain_words(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bad = tmp_path / "catalog.yml"
    bad.write_text("categories:\n  - name: x\n    request_types: []\n")
    env = {
        **CLEAN_ENV,
        "DATABASE_URL": f"postgresql+asyncpg://casebot:sekret@127.0.0.1:{port}/casebot",
        "CATALOG_PATH": str(bad),
        "TICKET_API_URL": f"http://127.0.0.1:{port}/tickets",
    }
    code, lines = await check(env, tmp_path)

    assert code == 1
    assert lines[-1] == "some checks failed: see FAIL above"
    database = line(lines, "database")
    assert database.startswith(
        f"FAIL  database: cannot connect to postgresql+asyncpg://casebot:***@127.0.0.1:{port}/"
    ), database
    assert database.endswith("check DATABASE_URL") and "sekret" not in "\n".join(lines)
    assert line(lines, "catalog").startswith(f"FAIL  catalog: CATALOG_PATH: {bad}: categories.0")
    assert line(lines, "Slack").startswith("skip  Slack: SLACK_BOT_TOKEN and SLACK_APP_TOKEN")
    assert line(lines, "ticket system") == (
        f"FAIL  ticket system: cannot reach 127.0.0.1:{port} (Connection refused);"
        " check TICKET_API_URL"
    )


async def test_an_empty_database_says_migrations_are_pending(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    env = {**CLEAN_ENV, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"}
    code, lines = await check(env, tmp_path)
    assert code == 0, lines
    assert "migrations pending (empty → " in line(lines, "database")


async def test_a_bad_setting_fails_naming_the_variable(tmp_path: Path) -> None:
    code, lines = await check({**CLEAN_ENV, "ESCALATION_FOLLOWUPS": "three"}, tmp_path)
    assert code == 1
    assert lines[0].startswith("FAIL  configuration: ESCALATION_FOLLOWUPS:")


async def test_bad_api_tokens_fail_naming_the_variable(tmp_path: Path) -> None:
    code, lines = await check({**CLEAN_ENV, "API_TOKENS": "zapier:tooshort"}, tmp_path)
    assert code == 1
    assert line(lines, "API").startswith("FAIL  API: API_TOKENS: zapier: the token must be")
    assert "tooshort" not in "\n".join(lines)


async def test_a_team_channel_from_the_catalog_is_found_and_its_membership_checked(
    slack: SlackEmulator, db_url: str, tmp_path: Path
) -> None:
    slack.add_channel("CPAYTEAM", "payments-team", is_member=False)
    catalog = tmp_path / "catalog.yml"
    catalog.write_text(
        "categories:\n"
        "  - name: payments\n"
        "    channel: '#payments-team'\n"
        "    request_types:\n"
        "      - {id: refund, name: Refund, description: Money back., examples: [refund me],\n"
        "         sla: {unit: hours, value: 8}, priority: 3}\n"
        "      - {id: fraud, name: Fraud, description: Not me., examples: [not my payment],\n"
        "         sla: {unit: hours, value: 1}, priority: 5, alerts_channel: '#fraud-alerts'}\n"
    )
    env = {**slack_env(slack, db_url), "CATALOG_PATH": str(catalog)}
    code, lines = await check(env, tmp_path)

    assert code == 1
    assert line(lines, "Slack channels") == (
        "FAIL  Slack channels: channel '#fraud-alerts' not found: use its id, or invite the bot"
        " to it (the catalog's request type 'fraud') (CATALOG_PATH)"
    )

    slack.add_channel("CFRAUDAL", "fraud-alerts")
    code, lines = await check(env, tmp_path)
    assert code == 1
    assert line(lines, "Slack membership") == (
        "FAIL  Slack membership: the bot is not in #payments-team (CPAYTEAM, catalog: fraud):"
        " `/invite @casebot` in each"
    )


async def test_mail_without_a_trusted_receiving_server_says_what_that_costs(
    db_url: str, tmp_path: Path
) -> None:
    imap = {
        **CLEAN_ENV,
        "DATABASE_URL": db_url,
        "IMAP_SERVER": "127.0.0.1",
        "IMAP_EMAIL": "support@example.com",
        "IMAP_PASSWORD": "secret",
        "EMAIL_AUTO_REPLIES_PER_DOMAIN_HOUR": "30",
    }
    _, lines = await check(imap, tmp_path)
    assert line(lines, "mail senders") == (
        "skip  mail senders: no sender counts as authenticated (TRUSTED_AUTHSERV_ID not set): "
        "acknowledgements are capped at 30 per sender domain an hour, and agents cannot "
        "answer cases by mail"
    )

    _, lines = await check({**imap, "TRUSTED_AUTHSERV_ID": "mx.example.com"}, tmp_path)
    assert line(lines, "mail senders") == (
        "ok    mail senders: authenticated by mx.example.com (its Authentication-Results "
        "are trusted)"
    )

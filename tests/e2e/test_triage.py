"""Triage seen from Slack and from the operator's side: the card, /health, a bad catalog."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.emulator import SlackEmulator
from bot.runtime import Runtime
from tests.e2e.conftest import CUSTOMER, INTAKE, card
from tests.e2e.test_cli import CLEAN_ENV, casebot


def card_fields(message: dict) -> str:
    return " ".join(
        field["text"]
        for block in message.get("blocks") or []
        for field in block.get("fields") or []
    )


async def test_the_card_shows_the_request_type_and_the_sla(
    slack: SlackEmulator, bot: Runtime
) -> None:
    await slack.user_message(CUSTOMER, INTAKE, "I was charged twice for one order, please fix")
    fields = card_fields(await card(slack, 1))
    assert "payments / duplicate_payment (" in fields and "local)" in fields
    assert "first answer due <!date^" in fields


async def test_health_says_which_classifier_triages(bot: Runtime) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{bot.http_port}/health") as response,
    ):
        assert response.status == 200
        assert await response.json() == {"triage": "local", "database": "ok", "status": "ok"}


async def test_health_reports_keyword_rules_when_the_model_is_off(
    slack: SlackEmulator, start_bot: object
) -> None:
    runtime: Runtime = await start_bot(triage_local_model=False)  # type: ignore[operator]
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{runtime.http_port}/health") as response,
    ):
        body = await response.json()
    assert response.status == 200
    assert body == {"triage": "keywords (no model)", "database": "ok", "status": "degraded"}
    await slack.user_message(CUSTOMER, INTAKE, "Your whole API is down, every request fails")
    fields = card_fields(await card(slack, 1))
    assert "technical / outage (" in fields and "keywords)" in fields


async def test_a_bad_catalog_stops_start_up_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.yml"
    bad.write_text("categories:\n  - name: x\n    request_types: []\n")
    env = {
        **CLEAN_ENV,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": "xapp-test",
        "SUPPORT_SLACK_CHANNEL": "support",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'casebot.db'}",
        "CATALOG_PATH": str(bad),
    }
    process = await casebot("run", env=env, cwd=tmp_path)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    last = stderr.decode().strip().splitlines()[-1]
    assert last.startswith(f"casebot: CATALOG_PATH: {bad}: categories.0.request_types"), last
    assert "Traceback" not in stderr.decode()

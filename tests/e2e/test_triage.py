"""Triage seen from Slack and from the operator's side: the card, /health, a bad catalog."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from tests.e2e.cli import CLEAN_ENV, casebot
from tests.e2e.conftest import AGENT, CUSTOMER, INTAKE, STRANGER, SUPPORT, card, ephemerals_for
from tests.fake_anthropic import ERROR_500, fake_anthropic


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
    await bot.triage_ready()
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{bot.http_port}/health") as response,
    ):
        assert response.status == 200
        body = await response.json()
    assert (body["triage"], body["database"], body["status"]) == ("local", "ok", "ok")
    assert body["components"]["classifier"] == {"status": "ok", "detail": "local"}


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
    assert (body["triage"], body["database"], body["status"]) == (
        "keywords (no model)",
        "ok",
        "degraded",
    )
    assert body["components"]["classifier"]["status"] == "degraded"
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


def selected_type(message: dict) -> str | None:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == "case_set_type":
                initial = element.get("initial_option") or {}
                return str(initial.get("value", "")) or None
    raise AssertionError("the card has no request-type select")


async def test_an_agent_corrects_the_type_on_the_card(slack: SlackEmulator, bot: Runtime) -> None:
    await slack.user_message(CUSTOMER, INTAKE, "The loyalty points from my flight never appeared")
    posted = await card(slack, 1)
    assert selected_type(posted) != "1:refund_request"

    await slack.click(STRANGER, SUPPORT, posted["ts"], "case_set_type", "1:refund_request")
    refusal = await slack.wait_for(lambda: ephemerals_for(slack, STRANGER))
    assert "Only support agents" in refusal[0]
    assert (await bot.cases.reads.get(1)).triage_source == "local"

    await slack.click(AGENT, SUPPORT, posted["ts"], "case_set_type", "1:refund_request")
    updated = await card(slack, 1, where=lambda m: selected_type(m) == "1:refund_request")
    assert "payments / refund_request (100%, agent)" in card_fields(updated)
    assert (await bot.cases.reads.get(1)).request_type == "refund_request"


async def test_claude_triages_when_configured_and_intake_goes_on_when_it_fails(
    slack: SlackEmulator, start_bot: Any
) -> None:
    async with fake_anthropic() as fake:
        bot: Runtime = await start_bot(
            anthropic_api_key="sk-test", anthropic_base_url=fake.base_url, llm_timeout_seconds=2
        )
        await slack.user_message(CUSTOMER, INTAKE, "I was charged twice for my order")
        assert "payments / duplicate_payment (93%, claude)" in card_fields(await card(slack, 1))

        fake.default = ERROR_500  # the API breaks: the breaker opens, nothing is lost
        customers = [f"UC{n}" for n in range(6)]
        for number, user in enumerate(customers, start=2):
            slack.add_user(user, user.lower())
            await slack.user_message(user, INTAKE, f"My card was stolen ({user})")
            assert "local)" in card_fields(await card(slack, number))
        assert bot.triager is not None and bot.triager.mode == "local (claude open)"
        # Three failed calls (each tried three times by the SDK) opened the breaker; the
        # other customers' messages never waited for the API.
        assert len(fake.requests) == 1 + 3 * 3

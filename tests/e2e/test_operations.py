"""Issue 6, operations: /health and /metrics as a load balancer and Prometheus see them."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.exclusive import Exclusive
from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from bot.wiring.mail import mailbox_health
from handlers.email.poller import ImapConfig, ImapPoller
from handlers.ops.health import Component
from handlers.ops.metrics import Metrics
from services.mailbox import MailboxState
from storage.engine import SessionFactory
from tests.e2e.conftest import CUSTOMER, INTAKE, card, outbox_settled
from tests.tcp_proxy import cuttable_postgres

JSON = dict[str, Any]


async def health(bot: Runtime) -> tuple[int, JSON]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{bot.http_port}/health") as response,
    ):
        return response.status, await response.json()


async def scrape(bot: Runtime) -> dict[str, float]:
    """`/metrics` as `name{label="value",…}` → value."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{bot.http_port}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


async def until_health(bot: Runtime, want: Callable[[int, JSON], bool], within: float) -> JSON:
    async with asyncio.timeout(within):
        while True:
            status, body = await health(bot)
            if want(status, body):
                return body
            await asyncio.sleep(0.1)


async def test_health_names_every_component(bot: Runtime) -> None:
    await bot.triage_ready()
    status, body = await health(bot)

    assert status == 200
    assert (body["status"], body["database"], body["triage"]) == ("ok", "ok", "local")
    components = body["components"]
    assert {name: c["status"] for name, c in components.items()} == {
        "database": "ok",
        "slack": "ok",
        "imap": "off",
        "scheduler": "ok",
        "classifier": "ok",
    }
    assert components["slack"]["detail"] == "connected over Socket Mode"
    assert components["imap"]["detail"] == "IMAP_SERVER not set"
    # The case-management document's shape, alongside ours.
    assert body["services"] == {
        "database": "healthy",
        "slack": "healthy",
        "imap": "disabled",
        "scheduler": "healthy",
        "classifier": "healthy",
    }


async def test_slack_gone_longer_than_the_grace_is_503_then_ok_again(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    bot: Runtime = await start_bot(socket_mode_ping_interval=0.3)
    await bot.triage_ready()
    bot.health.slack_grace = 1.0
    before = await scrape(bot)
    assert before["casebot_socket_mode_reconnects_total"] == 0

    slack.outage("apps.connections.open", seconds=4)  # no new connection for a while
    await slack.drop_sockets(abrupt=False)

    degraded = await until_health(bot, lambda s, b: b["status"] != "ok", within=5)
    assert degraded["components"]["slack"]["status"] == "degraded", degraded
    assert degraded["status"] == "degraded"
    down = await until_health(bot, lambda s, b: s == 503, within=5)
    assert down["status"] == "down"
    assert down["services"]["slack"] == "unhealthy"
    assert down["components"]["slack"]["detail"].startswith("disconnected for")
    assert down["database"] == "ok"

    await until_health(bot, lambda s, b: s == 200 and b["status"] == "ok", within=15)
    assert (await scrape(bot))["casebot_socket_mode_reconnects_total"] == 1


async def test_imap_health_says_who_reads_the_mailbox(
    start_bot: Callable[..., Any], unused_tcp_port: int
) -> None:
    bot: Runtime = await start_bot(
        imap_server="127.0.0.1",  # nothing listens there: held here, never connected
        imap_port=unused_tcp_port,
        imap_email="support@example.com",
        imap_password="imap-secret",
        imap_ssl=False,
    )
    await bot.triage_ready()
    body = await until_health(
        bot, lambda s, b: "holds" in b["components"]["imap"]["detail"], within=10
    )
    assert body["components"]["imap"] == {
        "status": "degraded",
        "detail": "this process holds the mailbox but is not connected",
    }
    assert body["status"] == "degraded"


async def test_an_unreachable_database_is_503(
    slack: SlackEmulator, start_bot: Callable[..., Any], db_url: str
) -> None:
    async with cuttable_postgres(db_url) as (proxy, proxied):
        bot: Runtime = await start_bot(database_url=proxied)
        assert (await health(bot))[0] == 200
        proxy.sever()
        await bot._wired.engine.dispose()  # pooled connections too
        status, body = await health(bot)
        assert status == 503
        assert (body["status"], body["database"]) == ("down", "down")
        assert body["components"]["database"]["status"] == "down"
        assert (await scrape(bot))["casebot_database_up"] == 0
        proxy.restore()
        await until_health(bot, lambda s, b: s == 200, within=10)


async def test_metrics_count_cases_escalations_triage_and_delivery_failures(
    slack: SlackEmulator, bot: Runtime
) -> None:
    await bot.triage_ready()
    empty = await scrape(bot)
    assert empty["casebot_cases_opened_total"] == 0
    assert empty["casebot_database_up"] == 1

    slack.fail_next("chat.postMessage", error="fatal_error")  # one post fails once
    await slack.user_message(CUSTOMER, INTAKE, "Urgent: the checkout page shows an error")
    await card(slack, 1)
    await outbox_settled(bot)
    samples = await scrape(bot)

    assert samples["casebot_cases_opened_total"] == 1
    assert samples["casebot_cases_closed_total"] == 0
    assert (
        samples['casebot_cases{status="open"}'] + samples['casebot_cases{status="assigned"}'] == 1
    )
    assert samples['casebot_escalations_total{reason="keyword"}'] == 1
    assert samples['casebot_triage_seconds_count{source="local"}'] == 1
    assert samples['casebot_triage_seconds_sum{source="local"}'] > 0
    failures = {k: v for k, v in samples.items() if k.startswith("casebot_delivery_failures_total")}
    assert list(failures.values()) == [1], failures  # the ack or the card: whichever went first
    assert samples["casebot_outbox_pending"] == 0
    assert samples["casebot_outbox_oldest_pending_age_seconds"] == 0


async def test_the_outbox_age_is_the_oldest_undelivered_row(
    slack: SlackEmulator, bot: Runtime
) -> None:
    await bot.triage_ready()
    slack.outage("chat.postMessage", seconds=30)
    await slack.user_message(CUSTOMER, INTAKE, "My invoice is missing a line")
    for _ in range(200):  # the row exists first: intake may take a while under load
        if (await scrape(bot))["casebot_outbox_pending"] >= 1:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.2)  # time must pass: the undelivered row grows over a second old
    samples = await scrape(bot)
    assert samples["casebot_outbox_pending"] >= 1
    assert 1.0 <= samples["casebot_outbox_oldest_pending_age_seconds"] < 30


def test_each_runtime_has_a_registry_of_its_own(sessions: SessionFactory) -> None:
    first, second = Metrics(sessions), Metrics(sessions)  # the global registry would refuse
    first.delivery_failed("case.card")
    assert (
        first.registry.get_sample_value("casebot_delivery_failures_total", {"kind": "case.card"})
        == 1
    )
    assert (
        second.registry.get_sample_value("casebot_delivery_failures_total", {"kind": "case.card"})
        is None
    )


def dockerfile_healthcheck() -> list[str]:
    """The HEALTHCHECK's CMD (exec form) from the Dockerfile."""
    text = (Path(__file__).resolve().parents[2] / "Dockerfile").read_text()
    instruction = re.search(r"^HEALTHCHECK (?:.*\\\n)*.*$", text, re.MULTILINE)
    assert instruction is not None
    joined = instruction[0].replace("\\\n", " ")
    command: list[str] = json.loads(joined.split(" CMD ", 1)[1])
    return command


async def test_the_dockerfile_healthcheck_asks_health(bot: Runtime, unused_tcp_port: int) -> None:
    command = dockerfile_healthcheck()
    assert command[0] == "python"

    async def run(port: int) -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *command[1:],
            env={**os.environ, "PORT": str(port)},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return await asyncio.wait_for(process.wait(), timeout=30)

    assert await run(bot.http_port or 0) == 0
    assert await run(unused_tcp_port) != 0  # nothing answers: unhealthy


def test_the_mailbox_component_says_who_reads_it() -> None:
    """mailbox_health over the states of the mailbox's lease (bot.exclusive.Exclusive)."""
    config = ImapConfig(host="imap.example.com", port=993, user="support", password="pw")
    poller = ImapPoller(config, cast(MailboxState, None), lambda raw: asyncio.sleep(0))
    lease = SimpleNamespace(held=asyncio.Event(), current=None, elsewhere=False)
    as_exclusive = cast(Exclusive, lease)

    assert mailbox_health(None).status == "off"
    assert mailbox_health(as_exclusive).detail.startswith("no process reads the mailbox")
    lease.elsewhere = True
    assert mailbox_health(as_exclusive) == Component("ok", "another process reads the mailbox")
    lease.elsewhere, lease.current = False, poller
    lease.held.set()
    assert mailbox_health(as_exclusive).status == "degraded"
    poller.connected.set()
    assert mailbox_health(as_exclusive) == Component("ok", "this process reads the mailbox")

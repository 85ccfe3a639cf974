"""End-to-end fixtures: the local Slack emulator and the real bot (Bolt over Socket Mode)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from bot.settings import Settings
from services.triage.embeddings import serving_threads
from services.triage.service import shared_encoder

# Fixtures that live beside their helpers, offered here to every end-to-end test by name.
from tests.e2e.api import api as api
from tests.e2e.mail import imap as imap
from tests.e2e.mail import smtp as smtp
from tests.e2e.mail import start_email_bot as start_email_bot
from tests.e2e.webhook import receiver as receiver

CUSTOMER, OTHER_CUSTOMER, AGENT, GROUP_AGENT, STRANGER = (
    "UCUST",
    "UCUST2",
    "UAGENT",
    "UGROUP",
    "USTRANGE",
)
INTAKE, SUPPORT, ALERTS, LOG, RANDOM = "CINTAKE1", "CSUPPORT", "CALERTS1", "CLOGLOG1", "CRANDOM1"

JSON = dict[str, Any]
# What real Slack answers to a product defect (no test injects these as faults).
STRICT_REFUSALS = frozenset({"missing_scope", "invalid_blocks", "msg_too_long"})


@pytest.fixture(scope="session", autouse=True)
def embedding_model() -> None:
    """Load the process's embedding model once, before the first bot starts.

    Cold from disk on a fresh machine it takes over 10 s, which the first test's waits would
    otherwise pay; every runtime then shares it, as each bot process does in production.
    """
    shared_encoder(serving_threads())


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    emulator = SlackEmulator(bot_token="xoxb-test", app_token="xapp-test")
    await emulator.start()
    for user_id, name in [
        (CUSTOMER, "carol"),
        (OTHER_CUSTOMER, "dave"),
        (AGENT, "agnes"),
        (GROUP_AGENT, "gus"),
        (STRANGER, "sam"),
    ]:
        emulator.add_user(user_id, name)
    for channel_id, name in [
        (INTAKE, "help"),
        (SUPPORT, "support"),
        (ALERTS, "support-alerts"),
        (LOG, "support-log"),
        (RANDOM, "random"),
    ]:
        emulator.add_channel(channel_id, name)
    emulator.add_usergroup("SAGENTS", "support-agents", [GROUP_AGENT])
    try:
        yield emulator
    finally:
        await emulator.stop()
    # Every end-to-end test is a recorded session against a strict Slack: whatever the bot
    # did, it never called a method it has no scope for, or sent blocks Slack refuses.
    refused = [f"{c.method}: {c.error}" for c in emulator.calls if c.error in STRICT_REFUSALS]
    assert not refused, f"Slack would have refused: {refused}"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def make_settings(slack: SlackEmulator, db_url: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "slack_bot_token": "xoxb-test",
            "slack_app_token": "xapp-test",
            "slack_api_url": slack.api_url,
            "support_slack_channel": "#support",  # by name: resolved at start
            "alerting_slack_channel": ALERTS,
            "logging_slack_channel": "support-log",
            "intake_slack_channels": [INTAKE],
            "agent_user_ids": [AGENT],
            "agent_usergroup": "SAGENTS",
            "database_url": db_url,
            "escalation_inactivity_hours": 48.0,
            "escalation_followups": 3,
            "escalation_check_interval": 3600.0,
            "reopen_window_hours": 72.0,
            "host": "127.0.0.1",
            "port": 0,  # any free port; the runtime reports the one it bound
            # Slack's pace (about 1 post per second per channel) has tests of its own; the
            # others would only wait for it.
            "slack_posts_per_second": 100.0,
            # Replies wait out their undo window in tests of the window only.
            "reply_undo_seconds": 0.0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
async def start_bot(
    slack: SlackEmulator, make_settings: Callable[..., Settings]
) -> AsyncIterator[Callable[..., Any]]:
    runtimes: list[Runtime] = []

    async def start(**overrides: Any) -> Runtime:
        runtime = Runtime(make_settings(**overrides))
        runtimes.append(runtime)
        await runtime.start(connect_timeout=5.0)
        await slack.wait_connected()
        return runtime

    try:
        yield start
    finally:
        for runtime in runtimes:
            await runtime.stop()


@pytest.fixture
async def bot(start_bot: Callable[..., Any]) -> Runtime:
    runtime: Runtime = await start_bot()
    return runtime


# --- reading what the bot did ----------------------------------------------------------------


def mirrored(slack: SlackEmulator, card_ts: str) -> list[str]:
    """The customer messages mirrored under a card, in order (a burst may share one post)."""
    texts = []
    for reply in slack.replies(SUPPORT, card_ts):
        for chunk in reply.get("text", "").split("\n\n"):
            heading, _, text = chunk.partition("\n")
            if heading.endswith("(customer) wrote:"):
                texts.append(text)
    return texts


def cards(slack: SlackEmulator) -> list[JSON]:
    """Case cards posted in the support channel, in order."""
    return [m for m in slack.messages(SUPPORT) if re.match(r"Case #\d+ \(", m.get("text", ""))]


async def card(
    slack: SlackEmulator,
    number: int,
    *,
    status: str | None = None,
    where: Callable[[JSON], bool] = lambda _: True,
    within: float = 10.0,
) -> JSON:
    """Wait for case #number's card (in `status`, satisfying `where`) and return it."""
    prefix = f"Case #{number} ({status}" if status else f"Case #{number} ("

    def find() -> JSON | None:
        return next((m for m in cards(slack) if m["text"].startswith(prefix) and where(m)), None)

    return await slack.wait_for(find, timeout=within)


async def open_case(slack: SlackEmulator, text: str = "My card is blocked") -> tuple[JSON, JSON]:
    """CUSTOMER writes `text` in the intake channel: their message, and case #1's card once
    the message's mirror is in the card's thread."""
    message = await slack.user_message(CUSTOMER, INTAKE, text)
    posted = await card(slack, 1)
    await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    return message, posted


def texts(messages: list[JSON]) -> list[str]:
    return [m.get("text", "") for m in messages]


def buttons(message: JSON) -> dict[str, str]:
    """action_id → value of the buttons on a card."""
    found: dict[str, str] = {}
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            for element in block["elements"]:
                if element.get("type") == "button":
                    found[element["action_id"]] = element.get("value", "")
    return found


def ephemerals_for(slack: SlackEmulator, user: str) -> list[str]:
    return [e.get("text", "") for e in slack.ephemerals if e.get("user") == user]


async def outbox_settled(bot: Runtime, within: float = 20.0) -> None:
    """Wait until every outbox row is delivered (the dispatcher keeps running meanwhile)."""
    async with asyncio.timeout(within):
        while await bot.dispatcher.pending():
            bot.dispatcher.wake()
            await asyncio.sleep(0.05)

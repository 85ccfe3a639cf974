"""Issue 16, item 8: `kill -9` between Slack posting a case card and the bot storing its ts.

The emulator kills the bot process after chat.postMessage has stored the card and before
its answer leaves, so the bot never learns the card's ts. The next process retries the
card: it finds the posted one by its message metadata (the case and the outbox row) and
updates it in place, instead of posting a second card.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.sandbox.emulator import SlackEmulator
from bot.settings import Settings
from handlers.slack.ids import CARD_EVENT, CUSTOMER_EVENT, TEAM_EVENT
from storage.engine import create_engine, create_session_factory
from storage.models import Case, OutboxItem, OutboxStatus
from tests.e2e.bot_process import bot_processes, settings_env
from tests.e2e.conftest import ALERTS, CUSTOMER, INTAKE, SUPPORT, cards

BUDGET = 120.0


def kill_on_post(slack: SlackEmulator, bot: Any, event_type: str) -> asyncio.Event:
    """Kill `bot` once Slack has stored its first post tagged `event_type`, before the
    answer leaves (the bot never learns the ts); the event is set once it is dead."""
    killing, killed = asyncio.Event(), asyncio.Event()

    async def after_call(method: str, args: dict[str, Any], _result: Any) -> None:
        tagged = method == "chat.postMessage" and event_type in str(args.get("metadata"))
        if tagged and not killing.is_set():
            killing.set()
            await bot.kill()
            killed.set()

    slack.api.after_call = after_call
    return killed


async def delivered(database_url: str, kind: str) -> list[OutboxItem]:
    """The outbox rows of `kind`, once there are some and all are delivered (a retry waits
    for the dead process's lease to lapse)."""
    engine = create_engine(database_url)
    try:
        sessions = create_session_factory(engine)
        while True:
            async with sessions() as session:
                stmt = select(OutboxItem).where(OutboxItem.kind == kind)
                rows = list((await session.exec(stmt)).all())
            if rows and all(row.status == OutboxStatus.DONE for row in rows):
                return rows
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


async def test_a_kill_between_posting_a_card_and_recording_it_leaves_one_card(
    slack: SlackEmulator, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(lease_seconds=3, triage_local_model=False)
    async with asyncio.timeout(BUDGET), bot_processes(settings_env(settings), tmp_path) as bots:
        first = await bots.start()
        killed = kill_on_post(slack, first, CARD_EVENT)  # the card stored, its answer lost
        await slack.wait_for(lambda: slack.connections_total > 0 or None, timeout=60)
        await slack.user_message(CUSTOMER, INTAKE, "Where is my parcel?")
        await killed.wait()
        posted = cards(slack)
        assert len(posted) == 1 and not first.running
        metadata = slack.workspace.get_message(SUPPORT, posted[0]["ts"])["metadata"]
        assert metadata["event_payload"]["case"] == 1 and metadata["event_payload"]["outbox_id"]

        before = slack.connections_total
        await bots.start()
        await slack.wait_for(lambda: slack.connections_total > before or None, timeout=60)
        engine = create_engine(settings.database_url)
        try:
            sessions = create_session_factory(engine)
            while True:  # the retry waits for the dead process's lease (3 s) to lapse
                async with sessions() as session:
                    case = await session.get(Case, 1)
                if case is not None and case.card_ts is not None:
                    break
                await asyncio.sleep(0.1)
        finally:
            await engine.dispose()
        assert case.card_ts == posted[0]["ts"], "the posted card was found, not posted again"
        await asyncio.sleep(1)  # anything still in flight would post now
        assert len(cards(slack)) == 1, bots.logs()
        assert any(c.ok for c in slack.calls_to("conversations.history")), "it looked first"


async def test_a_kill_between_telling_the_customer_and_recording_it_says_it_once(
    slack: SlackEmulator, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """The same kill on the customer's acknowledgement: the next process finds it in the
    customer's thread by its metadata (the outbox row) and does not say it twice."""
    settings = make_settings(lease_seconds=3, triage_local_model=False)
    async with asyncio.timeout(BUDGET), bot_processes(settings_env(settings), tmp_path) as bots:
        first = await bots.start()
        killed = kill_on_post(slack, first, CUSTOMER_EVENT)  # the ack posted, its answer lost
        await slack.wait_for(lambda: slack.connections_total > 0 or None, timeout=60)
        asked = await slack.user_message(CUSTOMER, INTAKE, "Where is my parcel?")
        await killed.wait()

        def acks() -> list[str]:
            return [
                m["text"]
                for m in slack.replies(INTAKE, asked["ts"])
                if m.get("bot_id") and "opened" in m["text"]
            ]

        assert len(acks()) == 1 and not first.running
        await bots.start()
        assert len(await delivered(settings.database_url, "customer.ack")) == 1
        await asyncio.sleep(1)  # anything still in flight would post now
        assert len(acks()) == 1, bots.logs()


async def test_a_kill_between_posting_an_alert_and_recording_it_alerts_once(
    slack: SlackEmulator, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """The same kill on an escalation alert: the next process finds the alert among the
    alert channel's newest posts by its metadata (the outbox row) and does not post it
    again (two processes sharing a database met this after a kill)."""
    settings = make_settings(lease_seconds=3, triage_local_model=False)
    async with asyncio.timeout(BUDGET), bot_processes(settings_env(settings), tmp_path) as bots:
        first = await bots.start()
        killed = kill_on_post(slack, first, TEAM_EVENT)  # the alert posted, its answer lost
        await slack.wait_for(lambda: slack.connections_total > 0 or None, timeout=60)
        await slack.user_message(CUSTOMER, INTAKE, "URGENT: our production site is down")
        await killed.wait()
        assert len(slack.messages(ALERTS)) == 1 and not first.running

        await bots.start()
        rows = await delivered(settings.database_url, "alert.escalation")
        await asyncio.sleep(1)  # anything still in flight would post now
        assert len(slack.messages(ALERTS)) == len(rows), "one alert per row, none twice"
        assert any(c.ok for c in slack.calls_to("conversations.history")), "it looked first"

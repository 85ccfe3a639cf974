"""Issue 6: SIGTERM stops `casebot run` in order (exit 0 within 10 s) and loses nothing.

A message Slack has an ack for is the bot's responsibility: a SIGTERM right after the ack
must still store it, and its card and acknowledgement are either delivered before the
process exits or still pending in the outbox for the next start, never dropped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox.emulator import SlackEmulator
from bot.settings import Settings
from services.outbox import OutboxKind
from storage.models import Message, OutboxItem, OutboxStatus
from tests.e2e.bot_process import BotProcess, bot_processes, settings_env
from tests.e2e.conftest import CUSTOMER, INTAKE, cards
from tests.e2e.crash import Database

STOP_WITHIN = 10.0
SECRET = "webhook-shared-secret-42"


async def started(slack: SlackEmulator, bot: BotProcess) -> None:
    try:
        await slack.wait_connected(timeout=90)
    except TimeoutError:
        raise AssertionError(f"the bot did not connect\n{bot.log_tail()}") from None


async def stop(bot: BotProcess) -> tuple[int, float]:
    began = time.monotonic()
    code = await bot.terminate(within=STOP_WITHIN + 5)
    return code, time.monotonic() - began


async def test_sigterm_right_after_a_message_exits_0_in_time_and_loses_nothing(
    slack: SlackEmulator, make_settings: Callable[..., Settings], db_url: str, tmp_path: Path
) -> None:
    settings = make_settings()  # the local model loads in the background, as in production
    db = Database(db_url)
    try:
        async with bot_processes(settings_env(settings), tmp_path) as bots:
            bot = await bots.start()
            await started(slack, bot)
            await slack.user_message(CUSTOMER, INTAKE, "The export button does nothing", timeout=30)
            code, took = await stop(bot)  # right after Slack has its ack

            assert code == 0, bot.log_tail()
            assert took < STOP_WITHIN, f"stopped in {took:.1f} s\n{bot.log_tail()}"

            async def stored(session: AsyncSession) -> list[str]:
                return [m.body for m in (await session.exec(select(Message))).all()]

            async def outbox(session: AsyncSession) -> dict[str, str]:
                rows = (await session.exec(select(OutboxItem).order_by(col(OutboxItem.id)))).all()
                return {row.kind: row.status for row in rows}

            assert await db.read(stored) == ["The export button does nothing"], bot.log_tail()
            rows = await db.read(outbox)
            card_posted = bool(cards(slack))
            ack_posted = any(
                "We've opened *case #1*" in m.get("text", "")
                for m in slack.replies(INTAKE, slack.messages(INTAKE)[0]["ts"])
            )
            for kind, posted in (
                (OutboxKind.CASE_CARD, card_posted),
                (OutboxKind.CUSTOMER_ACK, ack_posted),
            ):
                status = rows.get(kind.value)
                assert status is not None, rows
                if posted:
                    assert status == OutboxStatus.DONE, (kind, rows)
                else:
                    assert status == OutboxStatus.PENDING, (kind, rows, bot.log_tail())
    finally:
        await db.engine.dispose()


async def test_json_logs_carry_the_case_and_never_a_secret_or_a_whole_body(
    slack: SlackEmulator, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(
        log_format="json",
        log_level="DEBUG",  # the SDKs' debug lines dump whole payloads: they must be cut too
        webhook_secret=SECRET,
        triage_local_model=False,
    )
    body = f"I pasted our key {SECRET} and token xoxp-123-456 by mistake. " + "x" * 500 + "TAIL"
    async with bot_processes(settings_env(settings), tmp_path) as bots:
        bot = await bots.start()
        await started(slack, bot)
        await slack.user_message(CUSTOMER, INTAKE, body, timeout=30)
        await slack.wait_for(lambda: cards(slack) or None, timeout=20)
        code, _ = await stop(bot)
    assert code == 0, bot.log_tail()

    text = bot.log_path.read_text()
    entries = [json.loads(line) for line in text.splitlines()]  # every line is one object
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    opened = [e for e in entries if e["message"].startswith("case #1 opened")]
    assert opened and opened[0]["case"] == 1 and opened[0]["event_id"].startswith("Ev"), opened
    assert any(e["level"] == "DEBUG" and "I pasted our key" in e["message"] for e in entries)
    for secret in (SECRET, "xoxp-123-456", "xoxb-test", "xapp-test", "TAIL"):
        assert secret not in text, secret

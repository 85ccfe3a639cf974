"""Issue 5: the database briefly unreachable (PostgreSQL behind a proxy that the test cuts).

While it is away: a customer's Slack message (already acked to Slack) waits in the bot and
is stored once the database is back, in order; an agent's command is answered with a
clear message; a webhook request gets 503 with Retry-After and stores nothing (the provider
retries it). No case is left half-written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
from sqlmodel import col, select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from storage.models import Case, Message
from tests.e2e.conftest import AGENT, CUSTOMER, INTAKE, card
from tests.e2e.webhook import SECRET, message, post
from tests.tcp_proxy import cuttable_postgres

OUTAGE_SECONDS = 3.0


async def test_a_brief_database_outage_loses_nothing_and_fails_clearly(
    slack: SlackEmulator, start_bot: Callable[..., Any], db_url: str
) -> None:
    async with cuttable_postgres(db_url) as (proxy, proxied):
        bot: Runtime = await start_bot(database_url=proxied, webhook_secret=SECRET)
        await bot.triage_ready()
        await slack.user_message(CUSTOMER, INTAKE, "The invoice PDF is blank")
        await card(slack, 1)

        proxy.sever()
        for text in ("It is blank in Firefox too", "And on my phone"):
            await slack.user_message(CUSTOMER, INTAKE, text)  # acked at once, as always
        command = await slack.slash_command(AGENT, "/queue")
        async with aiohttp.ClientSession() as http:
            refused = await post(http, bot, message("Where is my parcel?"))
        assert (refused.status, refused.retry_after) == (503, "5"), refused
        await asyncio.sleep(OUTAGE_SECONDS)  # the outage must really last
        replies = str(command.responses) + str(command.ack_payload)
        assert "went wrong" in replies or "try again" in replies.lower(), replies
        proxy.restore()

        async with asyncio.timeout(30):
            while True:
                async with bot.sessions() as session:
                    stored = (await session.exec(select(Message).order_by(col(Message.id)))).all()
                if len(stored) >= 3:
                    break
                await asyncio.sleep(0.2)
        assert [m.body for m in stored] == [
            "The invoice PDF is blank",
            "It is blank in Firefox too",
            "And on my phone",
        ], "stored once each, in the order written"
        async with bot.sessions() as session:
            cases = (await session.exec(select(Case))).all()
        assert len(cases) == 1 and {m.case_id for m in stored} == {cases[0].number}
        async with aiohttp.ClientSession() as http:
            retried = await post(http, bot, message("Where is my parcel?"))
        assert retried.status == 201, "the provider's retry"

"""Benchmark: a storm of near-identical emails through Dovecot into Slack.

Run: `.venv/bin/python -m tests.bench.email_storm [--mails 1000] [--backend sqlite|postgres]
[--processes 1|2]`. `casebot run` is a separate process, or two on one PostgreSQL (one
holds the mailbox, both deliver; local classifier); the emulator in this process enforces Slack's
pace (1 post per second per channel, bursts of 3, 429 beyond). Prints one JSON line: every
mail stored (once), the master incidents, the alerts posted, the busiest channel's posts in
its busiest 10-second window and over the whole run, the 429s the bot ran into, and how long
storing, acknowledging (`acked_s`, every mail answered) and delivering (`delivered_s`, the
Slack posts too) took. The clock starts once every bot's model has loaded (a storm meets
a running bot); `ready_s` is how long start-up took until then. Targets: 1,000 mails all
stored in <= 20 s and every acknowledgement sent in <= 60 s, 1 master incident, <= 3 alerts,
posts kept within 1 per second per channel.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox.emulator import SlackEmulator
from storage.models import Case, OutboxItem, OutboxStatus
from tests.bench.common import (
    Stored,
    bench_database,
    check_scale,
    emulator,
    scale_options,
    until_local,
)
from tests.bench.common import settings as bench_settings
from tests.e2e.bot_process import bot_processes, settings_env
from tests.e2e.crash import append_all, storm_mail
from tests.e2e.mail import MX, smtp_settings
from tests.mail_servers import dovecot
from tests.smtp_server import free_port, smtp_server

ALERTS = "CALERTS"


class Db(Stored):
    """The stored mails (`count`), and what the storm made of them."""

    def __init__(self, url: str) -> None:
        super().__init__(url, source="email")

    async def scalar(self, stmt: Any) -> int:
        async with AsyncSession(self.engine) as session:
            return int((await session.exec(stmt)).one())

    async def pending(self) -> int:
        stmt = select(func.count()).select_from(OutboxItem)
        return await self.scalar(stmt.where(OutboxItem.status == OutboxStatus.PENDING))

    async def masters(self) -> int:
        stmt = select(func.count()).select_from(Case).where(col(Case.is_master).is_(True))
        return await self.scalar(stmt)


def busiest(slack: SlackEmulator) -> tuple[str, int, float]:
    """(channel, most posts in any 10 s window, posts per second over its posting span)."""
    times: dict[str, list[float]] = defaultdict(list)
    for call in slack.calls_to("chat.postMessage"):
        if call.ok:
            times[str(call.args.get("channel"))].append(call.at)
    best = ("", 0, 0.0)
    for channel, stamps in times.items():
        stamps.sort()
        window = max(sum(1 for t in stamps if s <= t < s + 10) for s in stamps)
        span = max(stamps[-1] - stamps[0], 1.0)
        if window > best[1]:
            best = (channel, window, len(stamps) / span)
    return best


async def until(check: Any, timeout: float) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while True:
            if await check():
                return
            await asyncio.sleep(0.25)


async def measure(
    mails: int, smtp_connections: int = 4, backend: str = "sqlite", processes: int = 1
) -> dict[str, Any]:
    slack = await emulator(post_rate_per_channel=1.0)
    slack.add_channel(ALERTS, "support-alerts")
    try:
        with tempfile.TemporaryDirectory() as tmp, smtp_server() as (smtp_port, inbox):
            async with dovecot(Path(tmp)) as imap, bench_database(backend, tmp) as url:
                settings = bench_settings(
                    slack,
                    tmp,
                    database_url=url,
                    alerting_slack_channel=ALERTS,
                    **imap.settings(),
                    **smtp_settings(smtp_port),
                    smtp_max_connections=smtp_connections,
                    trusted_authserv_id=MX,  # real customers: no domain cap on their acks
                )
                db = Db(url)
                async with bot_processes(settings_env(settings), Path(tmp)) as bots:
                    launched = time.perf_counter()
                    ports = [free_port() for _ in range(processes)]
                    for port in ports:  # one holds the mailbox, all deliver
                        bots.env = settings_env(settings.model_copy(update={"port": port}))
                        await bots.start()
                    await slack.wait_for(lambda: len(slack.hub.active) == processes, 60)
                    for port in ports:  # a storm meets a running bot, its model loaded
                        await until_local(port)
                    ready = time.perf_counter() - launched
                    started = time.perf_counter()
                    await append_all(imap, [storm_mail(n) for n in range(mails)])
                    appended = time.perf_counter() - started

                    async def all_stored() -> bool:
                        return await db.count() >= mails

                    await until(all_stored, 900)
                    stored_s = time.perf_counter() - started

                    async def acknowledged() -> bool:
                        return len(inbox.messages) >= mails

                    await until(acknowledged, 900)
                    acked_s = time.perf_counter() - started

                    async def drained() -> bool:  # the Slack posts too, at Slack's pace
                        return await db.pending() == 0

                    await until(drained, 900)
                    delivered_s = time.perf_counter() - started
                    stored, masters = await db.count(), await db.masters()
                    for bot in bots.started:
                        await bot.terminate()
                await db.engine.dispose()
    finally:
        await slack.stop()
    channel, window, rate = busiest(slack)
    alerts = [m for m in slack.messages(ALERTS) if "escalated" in str(m.get("text", ""))]
    limited = [c for c in slack.calls_to("chat.postMessage") if c.error == "ratelimited"]
    return {
        "bench": "email_storm",
        "backend": backend,
        "processes": processes,
        "mails": mails,
        "stored": stored,
        "master_incidents": masters,
        "alerts": len(alerts),
        "acks_sent": len(inbox.messages),
        "busiest_channel": channel,
        "busiest_posts_in_10s": window,
        "busiest_posts_per_s": round(rate, 2),
        "slack_429s": len(limited),
        "ready_s": round(ready, 1),
        "append_s": round(appended, 1),
        "stored_s": round(stored_s, 1),
        "acked_s": round(acked_s, 1),
        "delivered_s": round(delivered_s, 1),
        "smtp_max_connections": smtp_connections,
        "target": "all stored in <= 20 s and acknowledged in <= 60 s (1,000 mails), 1 master,"
        " <= 3 alerts, <= 1 post/s per channel",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument(
        "--smtp-connections", type=int, default=4, help="SMTP_MAX_CONNECTIONS of the bot"
    )
    scale_options(parser)
    args = parser.parse_args()
    check_scale(parser, args)
    figures = asyncio.run(measure(args.mails, args.smtp_connections, args.backend, args.processes))
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()

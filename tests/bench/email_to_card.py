"""Benchmark: APPEND on the IMAP server (Dovecot) → the case card in Slack (the emulator).

Run: `.venv/bin/python -m tests.bench.email_to_card [--mails 20] [--gap 2.5]`. Prints one
JSON line: median, min and max seconds over N mails from N new senders (each opens a case),
with the real bot in this process (Bolt over Socket Mode, SQLite, IMAP IDLE, SMTP acks to
aiosmtpd). Each mail is appended `--gap` seconds after the previous card showed: with no
gap the figure is Slack's posting pace (a new case is two posts in the support channel,
about one per second), which the storm benchmark measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.runtime import Runtime
from tests.bench.common import SUPPORT, banking_texts, emulator
from tests.bench.common import settings as bench_settings
from tests.e2e.mail import smtp_settings
from tests.mail_servers import dovecot
from tests.smtp_server import smtp_server


def _mail(n: int, text: str) -> bytes:
    return (
        f"From: Customer {n} <c{n}@example.org>\r\nTo: support@example.com\r\n"
        f"Subject: {text[:60]}\r\nMessage-ID: <bench-{n}@example.org>\r\n\r\n"
        f"{text}\r\n"
    ).encode()


async def measure(mails: int, gap: float) -> dict[str, object]:
    slack = await emulator()
    with tempfile.TemporaryDirectory() as tmp, smtp_server() as (smtp_port, _inbox):
        async with dovecot(Path(tmp)) as imap:
            settings = bench_settings(
                slack, tmp, **imap.settings(poll_interval=30.0), **smtp_settings(smtp_port)
            )
            bot = Runtime(settings)
            await bot.start(connect_timeout=10)
            try:
                await bot.poller_connected(timeout=10)
                await bot.triage_ready()
                delays = []
                # distinct real texts: similar ones would (rightly) fold into a storm
                texts = banking_texts(mails * 7)[::7]
                for n in range(1, mails + 1):
                    prefix = f"Case #{n} ("
                    appended = time.monotonic()
                    await imap.append(imap.user, _mail(n, texts[n - 1]))
                    await slack.wait_for(
                        lambda p=prefix: any(
                            m.get("text", "").startswith(p) for m in slack.messages(SUPPORT)
                        ),
                        timeout=30,
                    )
                    delays.append(time.monotonic() - appended)
                    await asyncio.sleep(gap)
            finally:
                await bot.stop()
    await slack.stop()
    return {
        "figure": "email_append_to_card_seconds",
        "mails": mails,
        "gap_s": gap,
        "median": round(statistics.median(delays), 3),
        "min": round(min(delays), 3),
        "max": round(max(delays), 3),
        "target_median": 1.5,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=20)
    parser.add_argument(
        "--gap",
        type=float,
        default=2.5,
        help="seconds between a card and the next mail: latency, not Slack's posting pace "
        "(each new case is 2 posts in the support channel, about 1 per second; 0 measures that)",
    )
    args = parser.parse_args()
    result = asyncio.run(measure(args.mails, args.gap))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

"""Slack failing for a while delays deliveries; it never loses or reorders them."""

from __future__ import annotations

from sqlmodel import select

from bot.emulator import SlackEmulator
from bot.runtime import Runtime
from storage.models import OutboxItem, OutboxStatus
from tests.e2e.conftest import CUSTOMER, INTAKE, SUPPORT, card, outbox_settled


async def test_rate_limits_server_errors_and_dropped_connections_are_retried(
    slack: SlackEmulator, bot: Runtime
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=1, count=1)
    slack.fail_next("chat.postMessage", status=500, count=2)
    slack.fail_next("chat.postMessage", drop=True, count=1)

    message = await slack.user_message(CUSTOMER, INTAKE, "Is anyone there?")

    posted = await card(slack, 1)
    mirror = await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]), timeout=20)
    assert "Is anyone there?" in mirror[0]["text"]
    ack = await slack.wait_for(lambda: slack.replies(INTAKE, message["ts"]), timeout=20)
    assert len(ack) == 1
    failed = [c for c in slack.calls_to("chat.postMessage") if not c.ok]
    assert len(failed) >= 3, "the faults were really served"
    await outbox_settled(bot)
    async with bot.sessions() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    assert rows and all(r.status == OutboxStatus.DONE for r in rows)


async def test_a_refusing_slack_holds_later_deliveries_of_the_case_back_in_order(
    slack: SlackEmulator, bot: Runtime
) -> None:
    slack.fail_next("chat.postMessage", error="fatal_error", count=2)  # not retried by the client

    await slack.user_message(CUSTOMER, INTAKE, "first")
    await slack.user_message(CUSTOMER, INTAKE, "second")

    posted = await card(slack, 1, where=lambda m: True)
    replies = await slack.wait_for(
        lambda: (
            len(slack.replies(SUPPORT, posted["ts"])) == 2 and slack.replies(SUPPORT, posted["ts"])
        ),
        timeout=20,
    )
    assert [r["text"].splitlines()[-1] for r in replies] == ["first", "second"]
    async with bot.sessions() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    assert max(r.attempts for r in rows) >= 1

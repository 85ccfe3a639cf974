"""Mail arriving in a real IMAP mailbox (Dovecot) becomes cases; nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from bot.sandbox.emulator import SlackEmulator
from handlers.email.poller import MAX_HANDLE_ATTEMPTS, ImapConfig, ImapPoller
from services.mailbox import MailboxState
from storage.engine import SessionFactory
from storage.models import Message
from tests.e2e.conftest import card, cards
from tests.e2e.mail import customer_mail, mails, quarantined, start_with_email
from tests.mail_servers import Dovecot
from tests.smtp_server import smtp_server


async def test_mail_in_the_mailbox_becomes_a_card_and_an_acknowledgement(
    slack: SlackEmulator, imap: Dovecot, start_bot: Callable[..., Any]
) -> None:
    user = next(iter(imap.users))
    with smtp_server() as (smtp_port, inbox):
        bot = await start_with_email(start_bot, imap, smtp_port)
        delays = []
        for n in range(1, 4):
            appended = time.monotonic()
            await imap.append(
                user, customer_mail(f"Problem {n}", f"Details {n}", f"<p{n}@example.org>")
            )
            await card(slack, 1)  # every mail from carol continues her open case #1
            await slack.wait_for(
                lambda n=n: len(slack.replies("CSUPPORT", cards(slack)[0]["ts"])) >= n, timeout=10
            )
            delays.append(time.monotonic() - appended)
        await imap.append(user, b"this is not an email at all")
        await imap.append(user, b"Subject: no sender\r\nMessage-ID: <ns@x>\r\n\r\nwho am I?\r\n")

        await mails(inbox, 1)
        assert inbox.messages[0]["Subject"] == "Re: Problem 1 [Case #1]"
        reasons = [q.reason for q in await quarantined(bot, count=2)]
        assert any("not an email" in r or "header" in r for r in reasons), reasons
        assert any("From" in r for r in reasons), reasons
        assert statistics.median(delays) < 5.0, delays


async def test_a_restart_reads_nothing_twice_and_misses_nothing(
    slack: SlackEmulator, imap: Dovecot, start_bot: Callable[..., Any]
) -> None:
    user = next(iter(imap.users))
    with smtp_server() as (smtp_port, _inbox):
        first = await start_with_email(start_bot, imap, smtp_port)
        await imap.append(user, customer_mail("one", "one", "<one@example.org>"))
        await card(slack, 1)
        await first.stop()

        await imap.append(user, customer_mail("two", "two", "<two@example.org>"))  # while down
        second = await start_with_email(start_bot, imap, smtp_port)
        await slack.wait_for(
            lambda: len(slack.replies("CSUPPORT", cards(slack)[0]["ts"])) >= 2, timeout=10
        )
        async with second.sessions() as session:
            bodies = [m.body for m in (await session.exec(select(Message))).all()]
        assert bodies == ["one", "two"]


async def test_a_mail_that_keeps_failing_is_quarantined_and_the_rest_goes_on(
    imap: Dovecot, sessions: SessionFactory
) -> None:
    """An unforeseen error on one mail (a bug, say) must not stop the mailbox for good."""
    state = MailboxState(sessions)
    handled: list[bytes] = []
    tries = 0

    async def handle(raw: bytes) -> None:
        nonlocal tries
        if b"poison" in raw:
            tries += 1
            raise RuntimeError("unforeseen")
        handled.append(raw)

    user, password = next(iter(imap.users.items()))
    config = ImapConfig(
        host=imap.host, port=imap.port, user=user, password=password, ssl=False, poll_interval=0.2
    )
    poller = ImapPoller(config, state, handle, max_backoff=1.0)
    await imap.append(user, customer_mail("bad", "poison", "<poison@example.org>"))
    await imap.append(user, customer_mail("good", "fine", "<good@example.org>"))
    task = asyncio.create_task(poller.run())
    try:
        async with asyncio.timeout(15):
            while not await state.quarantined():  # noqa: ASYNC110 - the poller runs in this loop
                await asyncio.sleep(0.05)
        await imap.append(user, customer_mail("later", "later", "<later@example.org>"))
        async with asyncio.timeout(15):
            while not any(b"later" in raw for raw in handled):  # noqa: ASYNC110 - as above
                await asyncio.sleep(0.05)
    finally:
        poller.stop()
        await asyncio.wait_for(task, 10)

    assert tries == MAX_HANDLE_ATTEMPTS
    # The good mail came in the poison's batch, which was read again after each failure:
    # handed in each time (its Message-ID makes the repeats no-ops), never lost.
    assert {b"fine" in raw for raw in handled[:-1]} == {True} and b"later" in handled[-1]
    (item,) = await state.quarantined()
    assert "RuntimeError: unforeseen" in item.reason and b"poison" in item.raw

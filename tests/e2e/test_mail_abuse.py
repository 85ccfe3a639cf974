"""Mail abuse (issue 21), through a real mailbox (Dovecot) and SMTP server (aiosmtpd): what a
hostile or broken sender can make the bot do, and what it no longer does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from storage.models import OutboxItem, OutboxStatus
from tests.e2e.conftest import SUPPORT, card
from tests.e2e.mail import customer_mail
from tests.mail_servers import Dovecot
from tests.smtp_server import Inbox


async def test_a_recipient_refused_for_good_is_not_retried_and_agents_are_told(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    _, inbox = smtp
    inbox.refused.add("carol@example.org")
    bot: Runtime = await start_email_bot()
    await imap.append(imap.user, customer_mail("Help", "My parcel is lost", "<p1@example.org>"))
    posted = await card(slack, 1)
    told = await slack.wait_for(
        lambda: [r for r in slack.replies(SUPPORT, posted["ts"]) if "was refused" in r["text"]]
    )
    assert told[0]["text"].startswith(":warning: *Mail delivery system*:\nOur mail &lt;casebot.1.")
    assert "to carol@example.org was refused, not retried:\n550 5.1.1" in told[0]["text"]
    async with bot.sessions() as session:
        ack = (
            await session.exec(select(OutboxItem).where(OutboxItem.kind == "customer.ack"))
        ).one()
    assert (ack.status, ack.attempts) == (OutboxStatus.DEAD, 1), "a 5xx is not tried 30 times"
    assert inbox.messages == []
    record = await bot.parts.reads.record(1)
    assert [a.action for a in record.audit].count("email.refused") == 1

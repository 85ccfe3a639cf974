"""Email customers get the same service without seeing Slack: ack, agent replies, threading."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.sandbox.emulator import SlackEmulator
from handlers.email.inbound import to_inbound
from handlers.email.parsing import parse_email
from tests.e2e.conftest import AGENT, SUPPORT, card, outbox_settled
from tests.e2e.mail import customer_mail, mails, smtp_settings, text_of
from tests.smtp_server import Inbox


async def test_an_email_customer_is_acknowledged_answered_and_threaded(
    slack: SlackEmulator, start_bot: Callable[..., Any], smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    bot = await start_bot(**smtp_settings(port))

    first = customer_mail(
        "Charged twice", "My card was charged twice for order 77.", "<c1@example.org>"
    )
    await bot.cases.intake.ingest(to_inbound(parse_email(first)))

    posted = await card(slack, 1)
    assert "My card was charged twice" in str(posted["blocks"]) and "via email" in str(
        posted["blocks"]
    )
    ack = (await mails(inbox, 1))[0]
    assert inbox.recipients[0] == ["carol@example.org"]
    assert ack["Subject"] == "Re: Charged twice [Case #1]"
    assert ack["In-Reply-To"] == "<c1@example.org>" and ack["Auto-Submitted"] == "auto-replied"
    assert "case #1" in text_of(ack) and "Slack" not in text_of(ack)

    await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    await slack.user_message(
        AGENT, SUPPORT, "We refunded the second payment.", thread_ts=posted["ts"]
    )
    answer = (await mails(inbox, 2))[1]
    assert "We refunded the second payment." in text_of(answer)
    assert str(ack["From"]) == "Support <support@example.com>", "a machine's mail: the team"
    assert str(answer["From"]) == '"agnes (Support)" <support@example.com>', "the agent's"
    assert text_of(answer).replace("\r\n", "\n").rstrip().endswith("agnes\nSupport")
    assert answer["Auto-Submitted"] is None, "a person wrote it"
    assert answer["In-Reply-To"] == "<c1@example.org>"
    assert answer["References"] == f"<c1@example.org> {ack['Message-ID']}", "the whole thread"

    reply = customer_mail(
        "Re: Charged twice [Case #1]",
        "Thanks, it arrived!",
        "<c2@example.org>",
        answer["Message-ID"],
    )
    result = await bot.cases.intake.ingest(to_inbound(parse_email(reply)))
    assert result.case.number == 1 and not result.created
    await slack.wait_for(
        lambda: any(
            "Thanks, it arrived!" in m["text"] for m in slack.replies(SUPPORT, posted["ts"])
        )
    )
    assert len(inbox.messages) == 2, "no second acknowledgement for a reply"


async def test_with_the_team_name_only_no_agent_name_reaches_the_customer(
    slack: SlackEmulator, start_bot: Callable[..., Any], smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    bot = await start_bot(
        **smtp_settings(port), support_team_name="Acme Support", replies_show_agent=False
    )
    await bot.cases.intake.ingest(
        to_inbound(parse_email(customer_mail("Refund", "Where is it?", "<t1@example.org>")))
    )
    posted = await card(slack, 1)
    await slack.user_message(AGENT, SUPPORT, "On its way.", thread_ts=posted["ts"])
    answer = (await mails(inbox, 2))[1]
    assert str(answer["From"]) == "Acme Support <support@example.com>"
    assert text_of(answer).replace("\r\n", "\n").rstrip().endswith("On its way.\n\nAcme Support")
    assert "agnes" not in answer.as_string()


async def test_an_auto_reply_opens_a_case_but_is_not_answered(
    slack: SlackEmulator, start_bot: Callable[..., Any], smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    bot = await start_bot(**smtp_settings(port))
    raw = customer_mail("Out of office", "I am away until Monday.", "<ooo@example.org>")
    raw = raw.replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:", 1)

    await bot.cases.intake.ingest(to_inbound(parse_email(raw)))

    await card(slack, 1)
    await outbox_settled(bot)  # everything queued has gone out, and no mail among it
    assert inbox.messages == []

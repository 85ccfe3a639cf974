"""Hostile customer text (issue 14): it never acts as Slack markup, and never as a mail header.

A name, an address, an API id, a subject or a message can carry `<!channel>`, `<!here>`,
`<!everyone>`, `<@U…>`, `<!subteam^…>` and disguised links; from Slack, email and the API they
reach the card (its fields and its fallback text), the thread mirror, the alerts channel,
`/queue` and App Home as literal text, and a link shows where it goes. A doubly encoded
Subject (CVE-2024-6923) adds no header to the mail we send back.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from handlers.email.inbound import to_inbound
from handlers.email.parsing import parse_email
from tests.e2e.api import TOKENS, Client
from tests.e2e.conftest import AGENT, ALERTS, INTAKE, SUPPORT, card, outbox_settled
from tests.e2e.mail import customer_mail, mails, smtp_settings
from tests.e2e.slack_ui import answer, opened_home
from tests.e2e.webhook import SECRET, Receiver
from tests.mail_servers import Dovecot
from tests.smtp_server import Inbox

pytestmark = pytest.mark.e2e

# What a hostile customer types, in Slack's wire format.
HOSTILE = (
    "<!channel> <!here> <!everyone> <@USTRANGE> <!subteam^SAGENTS|@support-agents> "
    "<http://evil.example|https://bank.example>"
)
# The same words as a customer of another channel writes them: plain text.
HOSTILE_TEXT = (
    "<!channel> <!here> <!everyone> <@USTRANGE> <!subteam^SAGENTS> "
    "<http://evil.example|https://bank.example>"
)
LIVE = re.compile(r"<(!channel|!here|!everyone|@USTRANGE|!subteam|http://evil)")
SHOWN_PLAIN = "https://bank.example (http://evil.example)"  # a Slack link, as plain text


def strings(value: Any) -> Iterator[str]:
    """Every string Slack reads as markup in an API call's arguments (blocks may come
    JSON-encoded); plain_text objects are shown as they are, so they are left out."""
    if isinstance(value, str):
        if value[:1] in "[{":
            try:
                yield from strings(json.loads(value))
                return
            except ValueError:
                pass
        yield value
    elif isinstance(value, dict):
        if value.get("type") == "plain_text":
            return
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def shown(slack: SlackEmulator) -> list[str]:
    """Everything the bot wrote to Slack: messages, updates, ephemerals, views, responses."""
    found: list[str] = []
    for method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.publish"):
        for call in slack.calls_to(method):
            found.extend(strings(call.args))
    found.extend(strings(slack.responses))
    return found


def assert_inert(slack: SlackEmulator) -> None:
    live = [text for text in shown(slack) if LIVE.search(text)]
    assert not live, f"customer markup went live: {live[:3]}"


def mrkdwn_of(message: dict[str, Any]) -> str:
    return "\n".join(strings(message.get("blocks") or []))


async def test_a_slack_customers_name_and_words_stay_text(
    slack: SlackEmulator, bot: Runtime
) -> None:
    slack.add_user("UEVE", "<!channel> eve")
    await slack.user_message("UEVE", INTAKE, f"{HOSTILE} urgent: pay here")

    posted = await card(slack, 1)
    assert "@channel @here @everyone @sam @support-agents" in posted["text"], "fallback text"
    assert SHOWN_PLAIN in posted["text"]
    assert SHOWN_PLAIN in mrkdwn_of(posted), "the card's quote of the message"
    alert = (await slack.wait_for(lambda: slack.messages(ALERTS)))[0]
    assert "@channel @here" in alert["text"] and SHOWN_PLAIN in alert["text"]
    mirror = await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    assert mirror[0]["text"].startswith("*&lt;!channel&gt; eve* (customer) wrote:")

    queue = await answer(slack, AGENT, "/queue", "")
    assert "@channel @here" in str(queue["blocks"])
    assert "@channel @here" in await opened_home(slack, AGENT, "Top of the queue")
    await outbox_settled(bot)
    assert_inert(slack)


async def test_an_email_customers_name_subject_and_body_stay_text(
    slack: SlackEmulator, start_bot: Callable[..., Any], smtp: tuple[int, Inbox]
) -> None:
    bot = await start_bot(**smtp_settings(smtp[0]))
    mail = (
        'From: "<!here> Mallory" <mallory@example.org>\r\nTo: support@example.com\r\n'
        f"Subject: {HOSTILE_TEXT}\r\nMessage-ID: <m1@example.org>\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n"
        f"<p>{HOSTILE_TEXT.replace('<', '&lt;').replace('>', '&gt;')} urgent</p>"
        '<p>Pay <a href="http://evil.example/pay">https://bank.example/pay</a></p>\r\n'
    ).encode()
    await bot.cases.intake.ingest(to_inbound(parse_email(mail)))

    posted = await card(slack, 1)
    assert "&lt;!channel&gt; &lt;!here&gt;" in posted["text"], "the subject, literally"
    blocks = mrkdwn_of(posted)
    assert "mallory@example.org" in blocks
    assert "&lt;http://evil.example|https://bank.example&gt;" in blocks
    mirror = await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    heading, _, body = mirror[0]["text"].partition("\n")
    assert heading == "*&lt;!here&gt; Mallory* (customer) wrote:"
    assert "https://bank.example/pay (http://evil.example/pay)" in body, "the target shows"
    await slack.wait_for(lambda: slack.messages(ALERTS))
    await outbox_settled(bot)
    assert_inert(slack)


async def test_an_api_customers_id_name_subject_and_message_stay_text(
    slack: SlackEmulator,
    start_bot: Callable[..., Any],
    api: Callable[[Runtime], Client],
    receiver: Receiver,
) -> None:
    bot = await start_bot(
        api_tokens=TOKENS,
        triage_local_model=False,
        webhook_secret=SECRET,
        webhook_reply_url=receiver.url,
    )
    client = api(bot)
    created = await client.create(
        f"{HOSTILE_TEXT} urgent", customer="<!everyone>", subject=f"<!channel> {HOSTILE_TEXT}"
    )
    assert created.status == 201, created.text
    posted = await card(slack, 1)
    assert "*Customer*\n&lt;!everyone&gt; via api" in mrkdwn_of(posted)
    assert posted["text"].endswith(
        "&lt;!channel&gt; &lt;!channel&gt; &lt;!here&gt; "
        "&lt;!everyone&gt; &lt;@USTRANGE&gt; &lt;!subteam^SAGENTS&gt; "
        "&lt;http://evil.example|https://bank.example&gt;"
    )

    ticket = await client.call(
        "POST",
        "/tickets",
        {
            "subject": "Login",
            "body": "cannot log in",
            "customer_name": "<!here> Hal",
            "customer_id": "<@USTRANGE>",
        },
    )
    assert ticket.status == 202, ticket.text
    second = await card(slack, 2)
    assert "&lt;@USTRANGE&gt;" in mrkdwn_of(second)
    mirror = await slack.wait_for(lambda: slack.replies(SUPPORT, second["ts"]))
    assert mirror[0]["text"].startswith("*&lt;!here&gt; Hal* (customer) wrote:")
    await slack.wait_for(lambda: slack.messages(ALERTS))
    await outbox_settled(bot)
    assert_inert(slack)


async def test_a_doubly_encoded_subject_injects_no_header_into_our_reply(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    """The probe's Subject, through Dovecot and the poller; the acknowledgement's bytes as
    aiosmtpd received them carry our headers and nothing else."""
    inner = "=?utf-8?q?Hi=0D=0AReply-To:_x@evil.example=0D=0A=0D=0ABody?="
    subject = "=?utf-8?b?" + base64.b64encode(inner.encode()).decode() + "?="
    await start_email_bot()
    await imap.append(imap.user, customer_mail(subject, "Please help.", "<inj1@example.org>"))

    await mails(smtp[1], 1)
    raw = smtp[1].raw[0]
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = [line.split(":", 1)[0] for line in head.split("\r\n") if line[:1] not in " \t"]
    assert names == [
        "From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "X-Casebot-Loop", "Auto-Submitted", "X-Auto-Response-Suppress", "MIME-Version",
        "Content-Type",
    ]  # fmt: skip
    sent = message_from_bytes(raw, policy=policy.default)
    assert [part.get_content_type() for part in sent.walk()] == [
        "multipart/alternative", "text/plain", "text/html"
    ]  # fmt: skip
    plain = sent.get_body(preferencelist=("plain",))
    assert plain is not None and str(plain.get_content()).startswith("Hello Carol Jones,")
    assert sent["Subject"] == "Re: Hi Reply-To: x@evil.example Body [Case #1]"
    assert sent["Reply-To"] is None and sent["To"] == "carol@example.org"
    posted = await card(slack, 1)
    assert posted["text"] == "Case #1 (open): Hi Reply-To: x@evil.example Body"


async def test_a_message_longer_than_slack_takes_is_mirrored_clipped_not_lost(
    slack: SlackEmulator, bot: Runtime
) -> None:
    """Slack refuses a post over 40,000 characters; a 60,000-character mail (every < of it
    escaped to &lt;, longer still) is mirrored clipped, with a note, and the whole text kept."""

    def mail(message_id: str, body: str) -> bytes:
        return (
            "From: Carol <carol@example.org>\r\nTo: support@example.com\r\n"
            f"Subject: Logs\r\nMessage-ID: <{message_id}@example.org>\r\n\r\n{body}\r\n"
        ).encode()

    await bot.cases.intake.ingest(to_inbound(parse_email(mail("long1", "Here are my logs"))))
    opened = await card(slack, 1)
    huge = "<x> " * 15_000
    await bot.cases.intake.ingest(to_inbound(parse_email(mail("long2", huge))))
    await outbox_settled(bot)

    mirrors = [m for m in slack.replies(SUPPORT, opened["ts"]) if "(customer) wrote:" in m["text"]]
    assert [m["text"].split("\n", 1)[1][:16] for m in mirrors] == [
        "Here are my logs",
        "&lt;x&gt; &lt;x&",
    ]
    mirror = mirrors[-1]
    assert len(mirror["text"]) < 40_000
    assert re.search(
        r"_\(clipped: 59,99\d characters in all, kept with the case\)_$", mirror["text"]
    )
    stored = await bot.cases.reads.messages(1)
    assert stored[-1].body.strip() == huge.strip(), "the whole text is kept"

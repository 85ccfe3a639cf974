"""Files in Slack: a customer's shared files reach the card's thread, an agent's files reach
the customer (as Slack files, or as email attachments), through the same stored attachments
as an email's; what the policy refuses is listed, never passed on, and nothing is lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.models import UploadedFile
from tests.e2e.conftest import AGENT, CUSTOMER, INTAKE, SUPPORT, card, ephemerals_for
from tests.e2e.mail import customer_mail, mails, text_of
from tests.mail_servers import Dovecot
from tests.smtp_server import Inbox

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 3000


def shared_by_bot(slack: SlackEmulator) -> list[UploadedFile]:
    """Files the bot uploaded (the people's own uploads have an owner)."""
    return [f for f in slack.files() if f.completed and f.owner is None]


async def test_a_customers_files_reach_the_card_thread_and_refused_ones_are_listed(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    bot: Runtime = await start_bot(attachment_upload_max_bytes=2_500)
    await slack.user_message(
        CUSTOMER,
        INTAKE,
        "The invoice is wrong, see attached",
        files=[("invoice.pdf", PDF), ("setup.exe", b"MZ" * 10), ("photo.png", PNG)],
    )
    posted = await card(slack, 1)
    uploaded = await slack.wait_for(lambda: shared_by_bot(slack))
    assert [(f.name, f.content, f.channels, f.thread_ts) for f in uploaded] == [
        ("invoice.pdf", PDF, [SUPPORT], posted["ts"])
    ]
    mirror = (await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"])))[0]["text"]
    assert "The invoice is wrong, see attached" in mirror
    assert "[file: invoice.pdf (application/pdf, 2,057 bytes)]" in mirror
    assert "[file not kept: setup.exe (" in mirror and "not accepted]" in mirror
    assert "[file not kept: photo.png (image/png, 3,008 bytes): larger than 2,500 bytes]" in mirror
    downloads = [c for c in slack.calls if c.method == "url_private"]
    assert [c.ok for c in downloads] == [True]  # only the one kept file was fetched
    stored = (await bot.parts.reads.record(1)).messages[0].body
    assert stored.startswith("The invoice is wrong, see attached\n\n[file: invoice.pdf")


async def test_an_agents_file_reaches_a_slack_customer_and_a_refused_one_is_named(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    await start_bot()
    asked = await slack.user_message(CUSTOMER, INTAKE, "Can I get a copy of my contract?")
    posted = await card(slack, 1)
    await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))

    await slack.user_message(
        AGENT,
        SUPPORT,
        "Here it is",
        thread_ts=posted["ts"],
        files=[("contract.pdf", PDF), ("tools.zip", b"PK\x03\x04")],
    )
    told = await slack.wait_for(lambda: ephemerals_for(slack, AGENT))
    assert told[0] == (
        ":warning: Not sent to the customer: tools.zip: type application/zip not accepted."
    )
    reply = await slack.wait_for(
        lambda: [r for r in slack.replies(INTAKE, asked["ts"]) if r.get("text") == "Here it is"]
    )
    sent = [f for f in shared_by_bot(slack) if f.channels == [INTAKE]]
    assert [(f.name, f.content, f.thread_ts) for f in sent] == [("contract.pdf", PDF, asked["ts"])]
    # The file comes just before the words: the tagged post marks the reply delivered.
    file_post = next(
        r for r in slack.replies(INTAKE, asked["ts"]) if r.get("files") and r["ts"] < reply[0]["ts"]
    )
    assert file_post["files"][0]["name"] == "contract.pdf"

    # A reply that is only a file says what it attached.
    await slack.user_message(AGENT, SUPPORT, "", thread_ts=posted["ts"], files=[("scan.png", PNG)])
    await slack.wait_for(
        lambda: [
            r for r in slack.replies(INTAKE, asked["ts"]) if r.get("text") == "Attached: scan.png"
        ]
    )


async def test_a_note_keeps_its_files_in_slack(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    bot: Runtime = await start_bot()
    asked = await slack.user_message(CUSTOMER, INTAKE, "My statement is missing")
    posted = await card(slack, 1)
    await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    await slack.user_message(
        AGENT, SUPPORT, "note: their file", thread_ts=posted["ts"], files=[("x.pdf", PDF)]
    )
    await slack.user_message(AGENT, SUPPORT, "On its way", thread_ts=posted["ts"])
    await slack.wait_for(
        lambda: [r for r in slack.replies(INTAKE, asked["ts"]) if r.get("text") == "On its way"]
    )
    assert [f for f in shared_by_bot(slack) if INTAKE in f.channels] == []
    assert ephemerals_for(slack, AGENT) == []
    assert len((await bot.parts.reads.record(1)).messages) == 3


async def test_an_agents_file_reaches_an_email_customer_as_an_attachment(
    slack: SlackEmulator,
    start_email_bot: Callable[..., Any],
    imap: Dovecot,
    smtp: tuple[int, Inbox],
) -> None:
    _, inbox = smtp
    await start_email_bot()
    await imap.append(imap.user, customer_mail("Contract", "Please send my contract", "<c1@x>"))
    posted = await card(slack, 1)
    await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    acked = len(await mails(inbox, 1))

    await slack.user_message(
        AGENT, SUPPORT, "Attached, as asked", thread_ts=posted["ts"], files=[("contract.pdf", PDF)]
    )
    reply = (await mails(inbox, acked + 1))[-1]
    assert "Attached, as asked" in text_of(reply)
    files = [
        (a.get_filename(), a.get_content_type(), a.get_content()) for a in reply.iter_attachments()
    ]
    assert files == [("contract.pdf", "application/pdf", PDF)]


async def test_a_file_named_only_by_id_is_looked_up_and_kept(
    slack: SlackEmulator, start_bot: Callable[..., Any]
) -> None:
    await start_bot()
    await slack.user_message(CUSTOMER, INTAKE, "", files=[("receipt.pdf", PDF)], file_stubs=True)
    posted = await card(slack, 1)
    uploaded = await slack.wait_for(lambda: shared_by_bot(slack))
    assert [(f.name, f.content, f.thread_ts) for f in uploaded] == [
        ("receipt.pdf", PDF, posted["ts"])
    ]
    assert [c.method for c in slack.calls if c.method in ("files.info", "url_private")] == [
        "files.info",
        "url_private",
    ]
    mirror = (await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"])))[0]["text"]
    assert mirror.endswith("wrote:\n[file: receipt.pdf (application/pdf, 2,057 bytes)]")

"""Email threading: subject tag, then the mail thread, then the sender's open case."""

from __future__ import annotations

import pytest

from handlers.email.inbound import NoSender, to_inbound
from handlers.email.parsing import parse_email
from services.cases import CaseService
from services.outbox import OutboxKind
from storage.engine import SessionFactory
from tests.builders import AGENT, outbox_kinds

_ids = iter(range(1, 1_000_000))


def mail(
    sender: str = "carol@example.org",
    subject: str = "Charged twice",
    body: str = "Hello, I was charged twice.",
    *,
    in_reply_to: str | None = None,
    message_id: str | None = None,
) -> bytes:
    message_id = message_id or f"<m{next(_ids)}@mail.example.org>"
    lines = [
        f"From: Carol <{sender}>",
        "To: support@example.com",
        f"Subject: {subject}",
        f"Message-ID: {message_id}",
    ]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


async def ingest(service: CaseService, raw: bytes) -> int:
    result = await service.intake.ingest(to_inbound(parse_email(raw)))
    return result.case.number


async def test_first_mail_opens_a_case_and_the_same_message_id_is_one_effect(
    service: CaseService,
) -> None:
    raw = mail(message_id="<once@mail.example.org>")
    assert await ingest(service, raw) == 1
    again = await service.intake.ingest(to_inbound(parse_email(raw)))
    assert again.duplicate and again.case.number == 1
    assert len(await service.reads.messages(1)) == 1


async def test_subject_tag_wins_over_the_open_case(service: CaseService) -> None:
    await ingest(service, mail(subject="first problem"))
    await service.agents.resolve(case_id=1, actor=AGENT)
    await ingest(service, mail(subject="second problem"))  # case 2 while 1 is resolved
    assert await ingest(service, mail(subject="Re: first problem [Case #1]")) == 1
    assert (await service.reads.get(1)).status == "open", "the tag reopened the resolved case"


async def test_in_reply_to_finds_the_case(service: CaseService) -> None:
    await ingest(service, mail(message_id="<root@mail.example.org>"))
    await ingest(service, mail(sender="dave@example.org"))
    assert await ingest(service, mail(in_reply_to="<root@mail.example.org>", subject="more")) == 1


async def test_someone_elses_case_number_is_ignored(service: CaseService) -> None:
    await ingest(service, mail(sender="carol@example.org"))
    number = await ingest(service, mail(sender="mallory@example.org", subject="Re: [Case #1] hi"))
    assert number == 2
    assert [m.author for m in await service.reads.messages(1)] == ["Carol"]


async def test_a_tag_pointing_at_a_closed_case_opens_a_new_case(service: CaseService) -> None:
    await ingest(service, mail())
    await service.agents.close(case_id=1, actor=AGENT)
    assert await ingest(service, mail(subject="Re: Charged twice [Case #1]")) == 2


async def test_addresses_match_in_any_case(service: CaseService) -> None:
    await ingest(service, mail(sender="Carol@Example.org"))
    assert await ingest(service, mail(sender="carol@example.ORG")) == 1


def test_notes_and_attachments_are_shown_with_the_text() -> None:
    raw = (
        b"From: c@example.org\r\nSubject: x\r\nMessage-ID: <a@b>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\n"
        b"see attached\r\n--B\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="invoice.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"JVBERi0xLjQK\r\n--B--\r\n"
    )
    inbound = to_inbound(parse_email(raw))
    assert inbound.body.startswith("see attached")
    assert "[attachment: invoice.pdf (application/pdf, 9 bytes)]" in inbound.body


def test_mail_without_a_sender_is_refused_for_quarantine() -> None:
    with pytest.raises(NoSender):
        to_inbound(parse_email(b"Subject: hi\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n"))


async def test_an_auto_reply_opens_a_case_but_gets_no_acknowledgement(
    service: CaseService, sessions: SessionFactory
) -> None:
    raw = mail(subject="Out of office").replace(
        b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:", 1
    )
    await ingest(service, raw)
    assert OutboxKind.CUSTOMER_ACK not in await outbox_kinds(sessions, 1)
    await ingest(service, mail(sender="dave@example.org"))
    assert OutboxKind.CUSTOMER_ACK in await outbox_kinds(sessions, 2)

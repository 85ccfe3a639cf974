"""Reminders, the sent-mail log and its hourly cap, bounces and attachments, in the database."""

from __future__ import annotations

from sqlmodel import select

from services.bounces import Bounce, Bounces
from services.cases import CaseService
from services.reminders import ReminderSweep
from services.sent_mail import MailCaps, SentMail
from services.types import IncomingAttachment
from storage.engine import SessionFactory
from storage.models import Attachment, Direction, Message
from tests.builders import AGENT, outbox_kinds, slack_message
from tests.builders import email_message as email
from tests.conftest import Clock

REMINDER = "customer.reminder"


async def test_the_reminder_goes_out_once_after_the_hours_and_only_while_open(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    sweep = ReminderSweep(sessions, hours=24, clock=clock)
    first = (await service.intake.ingest(slack_message("help", ts="1.0"))).case.number
    other = (
        await service.intake.ingest(slack_message("me too", user="UOTHER", ts="2.0"))
    ).case.number
    await service.agents.resolve(case_id=other, actor=AGENT)

    clock.advance(hours=23, minutes=59)
    assert await sweep.run() == 0
    clock.advance(minutes=2)
    assert await sweep.run() == 1
    assert await sweep.run() == 0, "once"
    clock.advance(hours=100)
    assert await sweep.run() == 0, "still once"

    assert (await outbox_kinds(sessions, first)).count(REMINDER) == 1
    assert REMINDER not in await outbox_kinds(sessions, other), "a resolved case is not reminded"


async def test_the_reminder_sweep_works_through_more_than_one_batch(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    sweep = ReminderSweep(sessions, hours=1, clock=clock)
    sweep.BATCH = 3
    for n in range(7):
        await service.intake.ingest(slack_message(f"case {n}", user=f"U{n}", ts=f"{n}.0"))
    clock.advance(hours=2)
    assert await sweep.run() == 7
    assert await sweep.run() == 0


async def test_the_hourly_cap_counts_only_automatic_mail_of_the_last_hour(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    case = (await service.intake.ingest(email("hello", "<a@x>"))).case.number
    sent = SentMail(sessions, clock=clock)

    async def send(n: int, *, automatic: bool = True, to: str = "Carol@Example.org") -> None:
        await sent.record(
            case_id=case,
            message_id=f"<casebot.{case}.{n}@example.com>",
            recipient=to,
            kind="customer.ack",
            automatic=automatic,
        )

    caps = MailCaps(per_address=2, per_domain=3, total=4)
    await send(1)
    await send(1)  # a retried delivery records nothing new
    await send(2, automatic=False)
    assert await sent.over_cap("carol@example.org", caps) is None
    await send(3, to="carol+promo@example.org")  # one mailbox: counted as carol@
    assert await sent.over_cap("CAROL+other@example.org", caps) == (
        "more than 2 automatic mails to carol@example.org in an hour"
    )
    assert await sent.over_cap("dave@example.org", caps) is None
    await send(4, to="dave@example.org")
    assert await sent.over_cap("erin@example.org", caps) == (
        "more than 3 automatic mails to @example.org in an hour"
    )
    assert await sent.over_cap("erin@example.org", caps, per_domain=False) is None
    await send(5, to="x@other.test")
    assert await sent.over_cap("y@third.test", caps) == (
        "more than 4 automatic mails in all in an hour"
    )
    clock.advance(minutes=61)
    assert await sent.over_cap("carol@example.org", caps) is None

    thread = await sent.thread(case, "email")
    assert thread[0] == ("<a@x>", False)
    assert [mine for _, mine in thread] == [False, True, True, True, True, True]


async def test_a_reply_threads_by_our_message_id_before_the_open_case(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    old = (await service.intake.ingest(email("first problem", "<a@x>"))).case.number
    await SentMail(sessions, clock=clock).record(
        case_id=old,
        message_id="<casebot.1.9@example.com>",
        recipient="carol@example.org",
        kind="customer.resolved",
        automatic=True,
    )
    await service.agents.resolve(case_id=old, actor=AGENT)
    clock.advance(hours=100)  # past the reopen window
    current = (await service.intake.ingest(email("second problem", "<b@x>"))).case.number
    assert current != old

    # A late answer to the old resolution notice: it belongs to the old thread, which can no
    # longer reopen, so it starts a new case instead of landing in the unrelated open one.
    late = await service.intake.ingest(
        email("about the first", "<c@x>", references=("<casebot.1.9@example.com>",))
    )
    assert late.created and late.case.number not in (old, current)
    # Without a known id, the sender's open case continues.
    plain = await service.intake.ingest(
        email("about the second", "<d@x>", references=("<nope@x>",))
    )
    assert plain.case.number == late.case.number


async def test_a_bounce_attaches_to_the_case_of_the_mail_it_returns(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    case = (await service.intake.ingest(email("hello", "<a@x>"))).case.number
    await SentMail(sessions, clock=clock).record(
        case_id=case,
        message_id="<casebot.1.2@example.com>",
        recipient="carol@example.org",
        kind="customer.ack",
        automatic=True,
    )
    bounces = Bounces(sessions, clock=clock)
    bounce = Bounce("email", "<dsn@mx>", "<casebot.1.2@example.com>", "mailbox full")

    assert await bounces.attach(bounce) == case
    assert await bounces.attach(bounce) == case, "a redelivered bounce is a no-op"
    assert await bounces.attach(Bounce("email", "<dsn2@mx>", "<unknown@x>", "?")) is None
    assert await bounces.attach(Bounce("email", "<dsn3@mx>", None, "?")) is None

    async with sessions() as session:
        notes = (
            await session.exec(select(Message).where(Message.direction == Direction.INTERNAL))
        ).all()
    assert [(m.case_id, m.body) for m in notes] == [(case, "mailbox full")]
    assert (await outbox_kinds(sessions, case)).count("case.thread") == 2


async def test_attachments_are_kept_and_small_ones_queued_for_upload(
    service: CaseService, sessions: SessionFactory
) -> None:
    files = (
        IncomingAttachment("a.png", "image/png", 3, b"png"),
        IncomingAttachment("big.zip", "application/zip", 50_000_000, None),
    )
    case = (await service.intake.ingest(email("see files", "<f@x>", attachments=files))).case.number

    async with sessions() as session:
        stored = (await session.exec(select(Attachment).order_by(Attachment.id))).all()
    assert [(a.filename, a.size, a.content) for a in stored] == [
        ("a.png", 3, b"png"),
        ("big.zip", 50_000_000, None),
    ]
    assert (await outbox_kinds(sessions, case)).count("case.attachment") == 1
    assert await service.reads.attachment(stored[0].id or 0) == stored[0]

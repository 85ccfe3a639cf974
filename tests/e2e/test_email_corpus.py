"""The whole difficult-mail corpus through a real Dovecot and the running bot: every message is
accounted for (a case message showing what the parsing table expects, or a quarantined item
with its reason), robots get no acknowledgement, and the poller survives all of it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from handlers.email.parsing import parse_email
from storage.models import Case, Customer, Direction, Message, QuarantinedMessage
from tests.e2e.conftest import cards, outbox_settled
from tests.e2e.crash import mailbox
from tests.e2e.mail import customer_mail, start_with_email
from tests.email.corpus import CORPUS, EXPECTED, Expect
from tests.mail_servers import Dovecot, dovecot
from tests.smtp_server import Inbox, smtp_server

BUDGET = 60.0
POLLER_GONE_AFTER = 8.0  # seconds disconnected; its reconnect backoff starts at 1 s
# The parsing table was made with 1,000-byte attachments kept at most; the bot keeps them up
# to 1 MB, so notes about an attachment dropped for its size do not apply here.
SIZE_DEPENDENT_NOTES = ("not kept: too large",)
SENTINEL = customer_mail("After the corpus", "Is anyone still reading?", "<sentinel@example.org>")


def automatic(expect: Expect) -> bool:
    """An auto-reply or a bounce: a robot wrote it, no robot may answer it."""
    return bool(expect.attrs.get("auto_reply_reason") or expect.attrs.get("is_bounce"))


# Robots first: the mail that opens a case is the one that may be acknowledged, and here the
# first of Jane's mails (she sends most of the corpus) is her out-of-office reply.
NAMES = sorted(EXPECTED, key=lambda name: (not automatic(EXPECTED[name]), name))


@dataclass(frozen=True)
class Arrived:
    """One corpus file as the bot got it from Dovecot (line endings may differ from the file)."""

    name: str
    raw: bytes
    message_id: str

    @property
    def expect(self) -> Expect:
        return EXPECTED[self.name]


async def test_the_corpus_through_dovecot(
    slack: SlackEmulator, start_bot: Callable[..., Any], tmp_path: Path
) -> None:
    ids = [parse_email((CORPUS / name).read_bytes()).message_id for name in NAMES]
    expected_items = len(set(ids))  # a Message-ID sent twice is one message
    async with dovecot(tmp_path) as imap, asyncio.timeout(BUDGET):
        with smtp_server() as (smtp_port, inbox):
            bot = await start_with_email(start_bot, imap, smtp_port)
            for name in NAMES:
                await imap.append(imap.user, (CORPUS / name).read_bytes())
            arrived = await fetch_back(imap)
            assert [a.name for a in arrived] == NAMES

            await accounted(bot, expected_items)
            await check_every_file(bot, arrived)

            # Still alive, still answering people: one more mail, from a person.
            await imap.append(imap.user, SENTINEL)
            await accounted(bot, expected_items + 1)
            assert bot.poller is not None and bot.poller.connected.is_set()
            await outbox_settled(bot)
            check_acknowledgements(inbox, arrived)
            await check_cards(bot, slack)


async def fetch_back(imap: Dovecot) -> list[Arrived]:
    """What Dovecot hands out for each APPENDed file, in APPEND (= UID) order, read with
    BODY.PEEK[] so that nothing the poller looks at changes."""
    async with mailbox(imap) as box:
        raws = [await box.fetch(uid) for uid in await box.uids_after(0)]
    return [
        Arrived(name, raw, parse_email(raw).message_id)
        for name, raw in zip(NAMES, raws, strict=True)
    ]


async def accounted(bot: Runtime, total: int, within: float = 30.0) -> tuple[int, int]:
    """Wait until email messages + quarantined items reach `total`; (messages, quarantined).

    Fails early when the poller stays disconnected (a reconnect takes a second or two): its
    task has ended, so nothing more will come."""
    assert bot.poller is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    disconnected_since: float | None = None
    while True:
        async with bot.sessions() as session:
            stored = (
                await session.exec(
                    select(func.count()).select_from(Message).where(Message.source == "email")
                )
            ).one()
            held = (await session.exec(select(func.count()).select_from(QuarantinedMessage))).one()
        if stored + held >= total:
            return int(stored), int(held)
        now = loop.time()
        if bot.poller.connected.is_set():
            disconnected_since = None
        elif disconnected_since is None:
            disconnected_since = now
        elif now - disconnected_since > POLLER_GONE_AFTER:
            raise AssertionError(
                f"the poller has been disconnected for {POLLER_GONE_AFTER} s with "
                f"{stored} messages + {held} quarantined of {total}: it died on a mail"
            )
        assert now < deadline, f"{stored} messages + {held} quarantined of {total}"
        await asyncio.sleep(0.1)


async def check_every_file(bot: Runtime, arrived: list[Arrived]) -> None:
    """Each file is exactly one of: a message on a case, showing what the parsing table
    expects, or a quarantined item (byte for byte) with a reason. Mail without a usable
    sender belongs to no customer: it can only be quarantined."""
    async with bot.sessions() as session:
        rows = (
            await session.exec(
                select(Message, Case, Customer)
                .where(Message.source == "email")
                .where(col(Message.case_id) == col(Case.id))
                .where(col(Case.customer_id) == col(Customer.id))
                .order_by(col(Message.id))
            )
        ).all()
        held = {
            bytes(item.raw): item.reason
            for item in (await session.exec(select(QuarantinedMessage))).all()
        }
    by_id = {m.external_id: (m, case, customer) for m, case, customer in rows}
    openers = {case.number: m.external_id for m, case, _ in reversed(rows)}  # first per case
    problems: list[str] = []
    for a in arrived:
        expect = a.expect
        if a.message_id in by_id:
            m, case, customer = by_id[a.message_id]
            problems += [f"{a.name}: {p}" for p in shown_wrong(expect, m, case, customer)]
            if a.raw in held:
                problems.append(f"{a.name}: both on case #{case.number} and quarantined")
            if openers[case.number] == a.message_id and case.subject != expect.subject:
                problems.append(f"{a.name}: opened case #{case.number} as {case.subject!r}")
        elif a.raw in held:
            if not held[a.raw].strip():
                problems.append(f"{a.name}: quarantined without a reason")
        else:
            problems.append(f"{a.name}: lost (no message {a.message_id}, not quarantined)")
        if not expect.from_address and a.raw not in held:
            problems.append(f"{a.name}: has no sender but was not quarantined")
    assert problems == [], "\n".join(problems)
    assert len(rows) + len(held) == len({a.message_id for a in arrived})


def shown_wrong(expect: Expect, m: Message, case: Case, customer: Customer) -> list[str]:
    """How the stored message differs from what the table says the case will show."""
    body = m.body
    wrong = [f"lacks {fragment!r}" for fragment in expect.has if fragment not in body]
    wrong += [f"shows {fragment!r}" for fragment in expect.lacks if fragment in body]
    footer = [line for line in body.splitlines() if line.startswith("[")]
    wrong += [
        f"no note {note!r}"
        for note in expect.notes
        if not any(skip in note for skip in SIZE_DEPENDENT_NOTES)
        and not any(note in line for line in footer)
    ]
    text = expect.attrs.get("text")
    if text and not body.startswith(text):
        wrong.append(f"text is not {text!r}")
    if text == "" and body and not body.startswith("["):  # at most the notes
        wrong.append("shows text, expected none")
    if m.direction == Direction.INBOUND:  # a customer's words (a bounce is a note on a case)
        if customer.email != expect.from_address:
            wrong.append(f"in case #{case.number} of {customer.email}, not {expect.from_address}")
        name = expect.attrs.get("from_name")
        if name is not None and m.author != name:
            wrong.append(f"written by {m.author!r}, not {name!r}")
    return [f"{w} (body {body[:300]!r})" for w in wrong]


def check_acknowledgements(inbox: Inbox, arrived: list[Arrived]) -> None:
    """No acknowledgement to an auto-reply or a bounce, nor to a robot's address; the person
    who wrote last was acknowledged."""
    robots = {a.message_id for a in arrived if automatic(a.expect)}
    robot_addresses = {a.expect.from_address for a in arrived if a.expect.attrs.get("is_bounce")}
    for mail, rcpts in zip(inbox.messages, inbox.recipients, strict=True):
        assert mail["In-Reply-To"] not in robots, (mail["Subject"], mail["In-Reply-To"])
        assert not robot_addresses & set(rcpts), (mail["Subject"], rcpts)
    assert any(m["In-Reply-To"] == "<sentinel@example.org>" for m in inbox.messages), [
        (m["Subject"], m["In-Reply-To"]) for m in inbox.messages
    ]


async def check_cards(bot: Runtime, slack: SlackEmulator) -> None:
    """Every case has its card."""
    async with bot.sessions() as session:
        numbers = {case.number for case in (await session.exec(select(Case))).all()}
    shown = {int(m["text"].split("#")[1].split(" ")[0]) for m in cards(slack)}
    assert shown == numbers

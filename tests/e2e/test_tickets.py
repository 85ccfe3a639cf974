"""The external ticket system (TICKET_API_URL): each new case is POSTed there once, and the
id it answers is stored, audited and shown on the card; TKT-<N> stands in until then."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlmodel import col, select

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from storage.models import AuditEvent, Case, OutboxItem, OutboxStatus
from tests.e2e.conftest import CUSTOMER, INTAKE, card, cards, outbox_settled
from tests.tickets.fake_ticket_system import TOKEN, FakeTicketSystem, fake_ticket_system

JSON = dict[str, Any]


@pytest.fixture
async def tickets() -> AsyncIterator[FakeTicketSystem]:
    async with fake_ticket_system() as fake:
        yield fake


async def start(start_bot: Callable[..., Any], fake: FakeTicketSystem, **more: Any) -> Runtime:
    bot: Runtime = await start_bot(
        triage_local_model=False,
        ticket_api_url=fake.url,
        ticket_api_token=TOKEN,
        outbox_retry_max_seconds=0.2,
        **more,
    )
    return bot


def shows(ticket: str) -> Callable[[JSON], bool]:
    """A card whose Ticket field reads `ticket`."""
    return lambda message: f"*Ticket*\\n{ticket}" in str(message["blocks"]).replace("\n", "\\n")


async def stored(bot: Runtime, number: int) -> Case | None:
    async with bot.sessions() as session:
        return await session.get(Case, number)


async def synced(bot: Runtime, number: int, within: float = 20.0) -> Case:
    """Case #number once it has its external ticket id."""
    async with asyncio.timeout(within):
        while True:
            case = await stored(bot, number)
            if case is not None and case.ticket_id is not None:
                return case
            await asyncio.sleep(0.05)


async def audit_of(bot: Runtime, number: int, action: str) -> list[AuditEvent]:
    async with bot.sessions() as session:
        stmt = select(AuditEvent).where(AuditEvent.case_id == number, AuditEvent.action == action)
        return list((await session.exec(stmt.order_by(col(AuditEvent.id)))).all())


async def ticket_rows(bot: Runtime) -> list[OutboxItem]:
    async with bot.sessions() as session:
        stmt = select(OutboxItem).where(OutboxItem.kind == "ticket.sync")
        return list((await session.exec(stmt)).all())


async def test_a_new_case_is_posted_once_and_its_ticket_id_is_stored_and_shown(
    slack: SlackEmulator, tickets: FakeTicketSystem, start_bot: Callable[..., Any]
) -> None:
    bot = await start(start_bot, tickets)

    await slack.user_message(CUSTOMER, INTAKE, "I was charged twice for order 1234")

    case = await synced(bot, 1)
    assert case.ticket_id == "EXT-100" and case.ticket_ref == "EXT-100"
    assert case.ticket_synced_at is not None
    [request] = tickets.requests
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Idempotency-Key"] == "case-1"
    body = request.body
    assert body["case_number"] == 1
    assert body["message"] == "I was charged twice for order 1234"
    assert body["category"] == case.category and body["request_type"] == case.request_type
    assert body["customer"]["slack_user_id"] == CUSTOMER
    assert body["created_at"].endswith("Z")
    await card(slack, 1, where=shows("EXT-100"))
    [event] = await audit_of(bot, 1, "ticket.synced")
    assert event.data == {"ticket_id": "EXT-100", "replaces": "TKT-1"}
    await outbox_settled(bot)
    assert len(cards(slack)) == 1, "the card is updated in place"
    sent = await audit_of(bot, 1, "notification.sent")
    assert all(e.data["kind"] != "ticket.sync" for e in sent), "ticket.synced is its audit"


async def test_while_the_system_is_down_the_card_shows_the_local_id_until_the_sync_succeeds(
    slack: SlackEmulator, tickets: FakeTicketSystem, start_bot: Callable[..., Any]
) -> None:
    tickets.down = True
    bot = await start(start_bot, tickets)

    await slack.user_message(CUSTOMER, INTAKE, "My card was declined at checkout")

    await card(slack, 1, where=shows("TKT-1"))  # the ticket stream holds back nothing
    await tickets.wait(lambda: len(tickets.answered(500)) >= 2)  # retried by the outbox
    case = await stored(bot, 1)
    assert case is not None and case.ticket_id is None
    [row] = await ticket_rows(bot)
    assert row.status == OutboxStatus.PENDING and "HTTP 500" in str(row.last_error)

    tickets.down = False
    case = await synced(bot, 1)
    await card(slack, 1, where=shows("EXT-100"))
    assert case.ticket_ref == "EXT-100"
    assert len(tickets.answered(201)) == 1, "POSTed once successfully"
    assert list(tickets.tickets.values()) == ["EXT-100"]
    [event] = await audit_of(bot, 1, "ticket.synced")
    assert event.data == {"ticket_id": "EXT-100", "replaces": "TKT-1"}
    await outbox_settled(bot)
    [row] = await ticket_rows(bot)
    assert row.status == OutboxStatus.DONE and row.attempts >= 2


async def test_a_sync_that_times_out_is_retried_and_makes_one_ticket(
    slack: SlackEmulator, tickets: FakeTicketSystem, start_bot: Callable[..., Any]
) -> None:
    tickets.slow_for, tickets.delay = 1, 2.0
    bot = await start(start_bot, tickets, ticket_api_timeout_seconds=0.5)

    await slack.user_message(CUSTOMER, INTAKE, "Where is my refund?")

    case = await synced(bot, 1)
    assert case.ticket_id == "EXT-100"
    assert len(tickets.requests) >= 2, "the first answer was too late: POSTed again"
    assert {r.headers["Idempotency-Key"] for r in tickets.requests} == {"case-1"}
    assert tickets.tickets == {"case-1": "EXT-100"}, "the same key made one ticket"
    await card(slack, 1, where=shows("EXT-100"))
    [row] = await ticket_rows(bot)
    assert "Timeout" in str(row.last_error)


async def test_a_refusal_is_logged_with_its_body_and_retried(
    slack: SlackEmulator, tickets: FakeTicketSystem, start_bot: Callable[..., Any]
) -> None:
    tickets.refuse_with = 400
    bot = await start(start_bot, tickets)

    await slack.user_message(CUSTOMER, INTAKE, "Please close my account")

    await tickets.wait(lambda: len(tickets.answered(400)) >= 2)
    [row] = await ticket_rows(bot)
    assert row.status == OutboxStatus.PENDING
    assert "HTTP 400" in str(row.last_error) and "category is not known here" in str(row.last_error)
    await card(slack, 1, where=shows("TKT-1"))


async def test_without_a_ticket_url_nothing_is_synced(
    slack: SlackEmulator, tickets: FakeTicketSystem, start_bot: Callable[..., Any]
) -> None:
    bot: Runtime = await start_bot(triage_local_model=False)

    await slack.user_message(CUSTOMER, INTAKE, "I was charged twice for order 1234")

    await card(slack, 1, where=shows("TKT-1"))
    await outbox_settled(bot)
    assert await ticket_rows(bot) == []
    assert tickets.requests == []
    case = await stored(bot, 1)
    assert case is not None and case.ticket_ref == "TKT-1"

"""Each outbox row goes to the sender registered for its channel; a row no sender here can
deliver (an API customer with no WEBHOOK_REPLY_URL) is given up at once, with the reason,
instead of being retried for two hours."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.delivery import Delivery
from bot.dispatcher import OutboxDispatcher
from services.cases import CaseService
from services.types import Channel, CustomerIdentity, InboundMessage
from storage.engine import SessionFactory
from storage.models import AuditEvent, OutboxItem, OutboxStatus
from tests.conftest import Clock


def api_message(text: str, n: int = 1) -> InboundMessage:
    return InboundMessage(
        source=Channel.API,
        external_id=f"api:{n}",
        body=text,
        customer=CustomerIdentity(name="Zed", phone="crm-42"),
    )


async def test_a_row_no_sender_can_deliver_is_given_up_at_once_with_the_reason(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(api_message("My card was charged twice"))
    to_slack: list[str] = []

    async def slack(item: OutboxItem, _superseded: bool) -> None:
        to_slack.append(item.kind)

    dispatcher = OutboxDispatcher(sessions, Delivery({Channel.SLACK: slack}), clock=clock)
    await dispatcher.drain_once()

    async with sessions() as session:
        rows = (await session.exec(select(OutboxItem).order_by(col(OutboxItem.id)))).all()
        dead = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "delivery.dead"))
        ).all()
    ack = next(row for row in rows if row.kind == "customer.ack")
    assert (ack.channel, ack.status, ack.attempts) == ("webhook", OutboxStatus.DEAD, 1)
    assert "goes out on 'webhook', but WEBHOOK_REPLY_URL is not set" in str(ack.last_error)
    assert [(event.case_id, event.data["kind"]) for event in dead] == [(1, "customer.ack")]
    assert "case.card" in to_slack, "the team's stream is not held back"

    clock.advance(hours=3)
    assert await dispatcher.drain_once() == 0, "nothing is retried"
    assert await dispatcher.pending() == 0


async def test_an_unknown_channel_is_named() -> None:
    delivery = Delivery({})
    row = OutboxItem(id=7, kind="customer.ack", channel="carrier-pigeon", ordering_key="k")
    try:
        await delivery(row, False)
    except Exception as error:  # the runner gives it up at once, with these words
        assert str(error) == (
            "outbox item 7 goes out on 'carrier-pigeon', but no sender is registered for it"
        )
    else:
        raise AssertionError("delivered on a channel nobody delivers on")


async def test_a_retried_row_still_waits_its_backoff(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    """Other failures are not final: the row waits and is tried again."""
    await service.intake.ingest(api_message("hello", n=2))

    async def down(_item: OutboxItem, _superseded: bool) -> None:
        raise ConnectionError("Slack is down")

    dispatcher = OutboxDispatcher(sessions, Delivery({Channel.SLACK: down}), clock=clock)
    await dispatcher.drain_once()
    async with sessions() as session:
        card = (await session.exec(select(OutboxItem).where(OutboxItem.kind == "case.card"))).one()
    assert (card.status, card.attempts) == (OutboxStatus.PENDING, 1)
    clock.advance(seconds=timedelta(minutes=10).total_seconds())
    await dispatcher.drain_once()
    async with sessions() as session:
        card = (await session.exec(select(OutboxItem).where(OutboxItem.kind == "case.card"))).one()
    assert card.attempts == 2

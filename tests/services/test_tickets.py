"""The external ticket id: enqueued with a new case when on, recorded once, audited, redrawn."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from services.cases import CaseService
from services.errors import CaseNotFound
from services.outbox import OutboxKind, ordering_key
from services.rules import RulesConfig
from services.tickets import TicketSync
from storage.engine import SessionFactory
from storage.models import AuditEvent, Case, OutboxItem
from tests.builders import outbox_kinds, slack_message
from tests.conftest import Clock


@pytest.fixture
def syncing(sessions: SessionFactory, clock: Clock, rules: RulesConfig) -> CaseService:
    return CaseService(sessions, rules=rules, clock=clock, sync_tickets=True)


async def test_a_new_case_enqueues_one_sync_with_its_message_on_its_own_stream(
    syncing: CaseService, sessions: SessionFactory
) -> None:
    await syncing.intake.ingest(slack_message("My card was charged twice"))
    await syncing.intake.ingest(slack_message("hello?"))  # continues the case: no second sync

    async with sessions() as session:
        rows = (
            await session.exec(select(OutboxItem).where(OutboxItem.kind == OutboxKind.TICKET_SYNC))
        ).all()
    [row] = rows
    assert row.payload == {"message": "My card was charged twice"}
    assert row.ordering_key == "case:1:ticket" == ordering_key(1, OutboxKind.TICKET_SYNC)


async def test_without_the_flag_no_sync_is_enqueued(
    service: CaseService, sessions: SessionFactory
) -> None:
    await service.intake.ingest(slack_message("My card was charged twice"))
    assert OutboxKind.TICKET_SYNC not in await outbox_kinds(sessions, 1)


async def test_the_id_is_recorded_once_audited_and_the_card_redrawn(
    service: CaseService, sessions: SessionFactory, clock: Clock
) -> None:
    await service.intake.ingest(slack_message("My card was charged twice"))
    assert (await service.reads.get(1)).ticket_ref == "TKT-1"
    sync = TicketSync(sessions, clock=clock)

    assert await sync.record(case_id=1, ticket_id="EXT-7")
    assert not await sync.record(case_id=1, ticket_id="EXT-7"), "a repeated sync changes nothing"

    case = await service.reads.get(1)
    assert (case.ticket_id, case.ticket_ref, case.ticket_synced_at) == ("EXT-7", "EXT-7", clock())
    async with sessions() as session:
        events = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "ticket.synced"))
        ).all()
        cards = (
            await session.exec(
                select(OutboxItem)
                .where(OutboxItem.kind == OutboxKind.CASE_CARD)
                .order_by(col(OutboxItem.id))
            )
        ).all()
    assert [e.data for e in events] == [{"ticket_id": "EXT-7", "replaces": "TKT-1"}]
    assert len(cards) == 2, "the intake's card and one redraw"
    with pytest.raises(CaseNotFound):
        await sync.record(case_id=99, ticket_id="EXT-8")


def test_the_local_ticket_id_needs_no_storage() -> None:
    assert Case(id=42, customer_id=1).ticket_ref == "TKT-42"
    assert Case(id=42, customer_id=1, ticket_id="INC-9").ticket_ref == "INC-9"

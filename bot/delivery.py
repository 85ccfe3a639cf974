"""Hands each outbox row to the sender registered for its channel.

The channel was decided when the row was written (services.outbox.channel_for) and stored
with it, so nothing here looks at a case's source: wiring registers one sender per channel
this process can deliver on, and a row for a channel with none fails with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from bot.report_delivery import ReportDelivery
from handlers.email.notifier import EmailNotifier
from handlers.slack.notifier import SlackNotifier
from handlers.slack.pacing import rate_limits_defer
from handlers.tickets.notifier import TicketNotifier
from handlers.webhook.notifier import WebhookNotifier
from services.cases import CaseService
from services.outbox import NoSender
from services.types import CaseView, Channel
from storage.models import OutboxItem

Sender = Callable[[OutboxItem, bool], Awaitable[None]]

# Why a channel has no sender in this process: the setting that turns it on.
UNCONFIGURED: dict[str, str] = {
    Channel.EMAIL: "SMTP_SERVER is not configured",
    Channel.WEBHOOK: "WEBHOOK_REPLY_URL is not set",
    Channel.TICKETS: "TICKET_API_URL is not set",
}


class Delivery:
    def __init__(self, senders: Mapping[str, Sender]) -> None:
        self._senders = dict(senders)

    async def __call__(self, item: OutboxItem, superseded: bool) -> None:
        sender = self._senders.get(item.channel)
        if sender is None:
            why = UNCONFIGURED.get(item.channel, "no sender is registered for it")
            raise NoSender(f"outbox item {item.id} goes out on {item.channel!r}, but {why}")
        await sender(item, superseded)


def senders(
    cases: CaseService,
    *,
    slack: SlackNotifier,
    reports: ReportDelivery,
    email: EmailNotifier | None,
    webhook: WebhookNotifier | None,
    tickets: TicketNotifier | None,
) -> dict[str, Sender]:
    """One sender per channel configured here; a report (no case) goes to the report's."""

    async def view_of(item: OutboxItem) -> CaseView:
        if item.case_id is None:
            raise ValueError(f"outbox item {item.id} has no case")
        return await cases.reads.view(item.case_id)

    async def to_slack(item: OutboxItem, superseded: bool) -> None:
        with rate_limits_defer():
            if item.case_id is None:
                await reports.upload(item)
                return
            await slack.deliver(item, await view_of(item), superseded=superseded)

    async def by_mail(item: OutboxItem, _superseded: bool) -> None:
        if item.case_id is None:
            await reports.mail(item)
        elif email is None:
            raise NoSender(
                f"outbox item {item.id}: an email customer, but {UNCONFIGURED[Channel.EMAIL]}"
            )
        else:
            await email.deliver(item, await view_of(item))

    registered: dict[str, Sender] = {Channel.SLACK: to_slack, Channel.EMAIL: by_mail}
    if webhook is not None:

        async def to_webhook(item: OutboxItem, _superseded: bool) -> None:
            await webhook.deliver(item, await view_of(item))

        registered[Channel.WEBHOOK] = to_webhook
    if tickets is not None:

        async def to_tickets(item: OutboxItem, _superseded: bool) -> None:
            await tickets.deliver(item, await view_of(item))

        registered[Channel.TICKETS] = to_tickets
    return registered

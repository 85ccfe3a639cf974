"""Routes each outbox item to the edge that delivers it: customers on their own channel."""

from __future__ import annotations

from bot.report_delivery import ReportDelivery
from handlers.email.inbound import SOURCE as EMAIL
from handlers.email.notifier import EmailNotifier
from handlers.slack.notifier import SlackNotifier, UnsupportedChannel
from handlers.tickets.notifier import TicketNotifier
from handlers.webhook.inbound import SOURCE as WEBHOOK
from handlers.webhook.notifier import WebhookNotifier
from services.cases import CaseService
from services.outbox import CUSTOMER_KINDS, REPORT_KINDS, OutboxKind
from services.types import API_SOURCE
from storage.models import OutboxItem


class Delivery:
    """Slack for the team and Slack customers; email and webhook customers on their own."""

    def __init__(
        self,
        cases: CaseService,
        slack: SlackNotifier,
        email: EmailNotifier | None,
        webhook: WebhookNotifier | None = None,
        reports: ReportDelivery | None = None,
        tickets: TicketNotifier | None = None,
    ) -> None:
        self._tickets = tickets
        self._cases = cases
        self._slack = slack
        self._email = email
        self._webhook = webhook
        self._reports = reports

    async def __call__(self, item: OutboxItem, superseded: bool) -> None:
        if item.kind in REPORT_KINDS and self._reports is not None:
            await self._reports(item)  # a report belongs to no case
            return
        if item.case_id is None:
            raise ValueError(f"outbox item {item.id} has no case")
        view = await self._cases.view(item.case_id)  # loaded once, for whichever edge delivers
        if item.kind == OutboxKind.TICKET_SYNC:
            if self._tickets is None:
                raise UnsupportedChannel("a ticket sync, but TICKET_API_URL is not set")
            await self._tickets.deliver(item, view)
            return
        if item.kind in CUSTOMER_KINDS and view.case.source == EMAIL:
            if self._email is None:
                raise UnsupportedChannel("an email customer, but SMTP_SERVER is not configured")
            await self._email.deliver(item, view)
            return
        if item.kind in CUSTOMER_KINDS and view.case.source in (WEBHOOK, API_SOURCE):
            # Never falls through to Slack: a webhook customer must not be written to there.
            # API customers are known the webhook's way and answered at its reply URL.
            if self._webhook is None:
                raise UnsupportedChannel("a webhook customer, but WEBHOOK_REPLY_URL is not set")
            await self._webhook.deliver(item, view)
            return
        await self._slack.deliver(item, view, superseded=superseded)

"""Routes each outbox item to the edge that delivers it: customers on their own channel."""

from __future__ import annotations

from handlers.email.inbound import SOURCE as EMAIL
from handlers.email.notifier import EmailNotifier
from handlers.slack.notifier import SlackNotifier, UnsupportedChannel
from handlers.webhook.inbound import SOURCE as WEBHOOK
from handlers.webhook.notifier import WebhookNotifier
from services.cases import CaseService
from services.outbox import CUSTOMER_KINDS
from storage.models import OutboxItem


class Delivery:
    """Slack for the team and Slack customers; email and webhook customers on their own."""

    def __init__(
        self,
        cases: CaseService,
        slack: SlackNotifier,
        email: EmailNotifier | None,
        webhook: WebhookNotifier | None = None,
    ) -> None:
        self._cases = cases
        self._slack = slack
        self._email = email
        self._webhook = webhook

    async def __call__(self, item: OutboxItem, superseded: bool) -> None:
        if item.case_id is None:
            raise ValueError(f"outbox item {item.id} has no case")
        view = await self._cases.view(item.case_id)  # loaded once, for whichever edge delivers
        if item.kind in CUSTOMER_KINDS and view.case.source == EMAIL:
            if self._email is None:
                raise UnsupportedChannel("an email customer, but SMTP_SERVER is not configured")
            await self._email.deliver(item, view)
            return
        if item.kind in CUSTOMER_KINDS and view.case.source == WEBHOOK:
            # Never falls through to Slack: a webhook customer must not be written to there.
            if self._webhook is None:
                raise UnsupportedChannel("a webhook customer, but WEBHOOK_REPLY_URL is not set")
            await self._webhook.deliver(item, view)
            return
        await self._slack.deliver(item, view, superseded=superseded)

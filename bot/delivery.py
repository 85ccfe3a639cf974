"""Routes each outbox item to the edge that delivers it: customers on their own channel."""

from __future__ import annotations

from handlers.email.inbound import SOURCE as EMAIL
from handlers.email.notifier import EmailNotifier
from handlers.slack.notifier import SlackNotifier, UnsupportedChannel
from services.cases import CaseService
from services.outbox import OutboxKind
from storage.models import OutboxItem

CUSTOMER_KINDS = frozenset(
    {
        OutboxKind.CUSTOMER_ACK.value,
        OutboxKind.CUSTOMER_REPLY.value,
        OutboxKind.CUSTOMER_RESOLVED.value,
    }
)


class Delivery:
    """Slack for the team and Slack customers; email for email customers."""

    def __init__(
        self, cases: CaseService, slack: SlackNotifier, email: EmailNotifier | None
    ) -> None:
        self._cases = cases
        self._slack = slack
        self._email = email

    async def __call__(self, item: OutboxItem, superseded: bool) -> None:
        if item.case_id is None:
            raise ValueError(f"outbox item {item.id} has no case")
        view = await self._cases.view(item.case_id)  # loaded once, for whichever edge delivers
        if item.kind in CUSTOMER_KINDS and view.case.source == EMAIL:
            if self._email is None:
                raise UnsupportedChannel("an email customer, but SMTP_SERVER is not configured")
            await self._email.deliver(item, view)
            return
        await self._slack.deliver(item, view, superseded=superseded)

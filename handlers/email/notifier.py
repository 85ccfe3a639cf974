"""Delivers customer-facing outbox items of email cases as threaded mail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from handlers.email import templates
from handlers.email.compose import OutgoingEmail, compose
from handlers.email.inbound import SOURCE
from handlers.email.smtp_sender import SmtpSender
from services.cases import CaseService
from services.outbox import OutboxKind
from services.types import CaseView
from storage.models import Direction, OutboxItem


class EmailNotifier:
    def __init__(
        self,
        sender: SmtpSender,
        cases: CaseService,
        *,
        support_email: str,
        reopen_window_hours: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._sender = sender
        self._cases = cases
        self._support = support_email
        self._reopen_days = reopen_window_hours / 24
        self._clock = clock

    async def deliver(self, item: OutboxItem, view: CaseView) -> None:
        case, customer = view.case, view.customer
        if not customer.email:
            raise ValueError(f"case #{case.number}: the customer has no email address")
        kind = OutboxKind(item.kind)
        match kind:
            case OutboxKind.CUSTOMER_ACK:
                text, automatic = (
                    templates.acknowledgement(case.number, customer.name, case.subject),
                    True,
                )
            case OutboxKind.CUSTOMER_REPLY:
                text = templates.agent_reply(
                    str(item.payload.get("text", "")), str(item.payload.get("author", ""))
                )
                automatic = False
            case OutboxKind.CUSTOMER_RESOLVED:
                text, automatic = templates.resolution(case.number, self._reopen_days), True
            case _:
                raise ValueError(f"{item.kind} is not for customers")
        thread = [
            m.external_id
            for m in await self._cases.messages(case.number)
            if m.source == SOURCE and m.direction == Direction.INBOUND and m.external_id
        ]
        domain = self._support.rpartition("@")[2]
        message = compose(
            OutgoingEmail(
                to=customer.email,
                case_number=case.number,
                original_subject=case.subject,
                text=text,
                automatic=automatic,
                in_reply_to=thread[-1] if thread else None,
                references=tuple(thread),
            ),
            sender=self._support,
            now=self._clock(),
            # One id per outbox row: a retry after a crash re-sends the same message.
            message_id=f"<casebot.{case.number}.{item.id}@{domain}>",
        )
        await self._sender.send(message)

"""One raw email in: a customer's message, an agent's reply, a bounce on its case, or a
quarantined item with the reason. Never a crash, never a lost message."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from handlers.email.authentication import check_sender
from handlers.email.inbound import NoSender, to_inbound
from handlers.email.parsing import ParsedEmail, UnparseableEmail, parse_email
from services.bounces import Bounce, Bounces
from services.cases import CaseService
from services.errors import DomainError
from services.mailbox import MailboxState
from services.types import Actor, Channel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeConfig:
    max_text_chars: int = 100_000
    small_attachment_bytes: int = 1_000_000
    admin_emails: Collection[str] = ()  # lower-case addresses
    trusted_authserv_id: str | None = None


class EmailIntake:
    def __init__(
        self,
        cases: CaseService,
        mailbox: MailboxState,
        bounces: Bounces,
        config: IntakeConfig = IntakeConfig(),
    ) -> None:
        self._cases = cases
        self._mailbox = mailbox
        self._bounces = bounces
        self._config = config

    async def handle(self, raw: bytes) -> int | None:
        """Take in `raw`; returns the case number, or None when it was quarantined."""
        try:
            parsed = parse_email(
                raw,
                max_text_chars=self._config.max_text_chars,
                small_attachment_bytes=self._config.small_attachment_bytes,
            )
        except UnparseableEmail as error:
            await self._quarantine(raw, str(error))
            return None
        if parsed.is_bounce:
            return await self._bounce(raw, parsed)
        if parsed.from_address.lower() in self._config.admin_emails:
            return await self._from_admin(raw, parsed)
        return await self._customer(raw, parsed)

    async def _customer(self, raw: bytes, parsed: ParsedEmail) -> int | None:
        try:
            inbound = to_inbound(parsed, self._config.trusted_authserv_id)
        except NoSender as error:
            await self._quarantine(raw, str(error))
            return None
        result = await self._cases.intake.ingest(inbound)
        log.info(
            "email %s → case #%s%s",
            inbound.external_id,
            result.case.number,
            " (duplicate)" if result.duplicate else "",
            extra={"case": result.case.number, "message_id": inbound.external_id},
        )
        return result.case.number

    async def _bounce(self, raw: bytes, parsed: ParsedEmail) -> int | None:
        """A bounce goes on the case of the mail it returns; it never opens a case."""
        number = await self._bounces.attach(
            Bounce(
                source=Channel.EMAIL,
                external_id=parsed.message_id,
                bounced_message_id=parsed.bounced_message_id,
                summary=parsed.text,
            )
        )
        if number is None:
            await self._quarantine(
                raw, f"bounce of a message we have no record of ({parsed.bounced_message_id})"
            )
            return None
        log.info("bounce %s → case #%s", parsed.message_id, number)
        return number

    async def _from_admin(self, raw: bytes, parsed: ParsedEmail) -> int | None:
        """An agent's reply by email, if the receiving server vouches for the sender."""
        check = check_sender(
            parsed.authentication_results, parsed.from_address, self._config.trusted_authserv_id
        )
        if not check.verified:
            number = await self._customer(raw, parsed)  # words, never a privilege
            await self._cases.record(
                number,
                "email.agent_unverified",
                parsed.from_address,
                message_id=parsed.message_id,
                reason=check.reason,
            )
            log.warning(
                "mail from admin address %s not authenticated: %s",
                parsed.from_address,
                check.reason,
            )
            return number
        case = await self._cases.reads.case_for_thread(
            Channel.EMAIL,
            parsed.case_number,
            [*([parsed.in_reply_to] if parsed.in_reply_to else []), *parsed.references],
        )
        if case is None:
            return await self._customer(raw, parsed)  # a new request, written by a colleague
        actor = Actor(
            id=parsed.from_address, name=parsed.from_name or parsed.from_address, is_agent=True
        )
        try:
            result = await self._cases.agents.message(
                case_id=case.number,
                actor=actor,
                text=parsed.text,
                source=Channel.EMAIL,
                external_id=parsed.message_id,
                mirror=True,
            )
        except DomainError as error:
            await self._quarantine(raw, f"agent mail for case #{case.number}: {error}")
            return None
        log.info(
            "agent mail %s → case #%s%s",
            parsed.message_id,
            case.number,
            " (closed)" if result.closed else "",
        )
        return case.number

    async def _quarantine(self, raw: bytes, reason: str) -> None:
        item = await self._mailbox.quarantine(source=Channel.EMAIL, raw=raw, reason=reason)
        log.warning("email quarantined as #%s: %s", item, reason)
        return None

"""One raw email in: a case message, or a quarantined item with the reason. Never a crash."""

from __future__ import annotations

import logging

from handlers.email.inbound import SOURCE, NoSender, to_inbound
from handlers.email.parsing import UnparseableEmail, parse_email
from services.cases import CaseService
from services.mailbox import MailboxState

log = logging.getLogger(__name__)


class EmailIntake:
    def __init__(
        self, cases: CaseService, mailbox: MailboxState, *, max_text_chars: int = 100_000
    ) -> None:
        self._cases = cases
        self._mailbox = mailbox
        self._max_text = max_text_chars

    async def handle(self, raw: bytes) -> int | None:
        """Ingest `raw`; returns the case number, or None when it was quarantined."""
        try:
            inbound = to_inbound(parse_email(raw, max_text_chars=self._max_text))
        except (UnparseableEmail, NoSender) as error:
            item = await self._mailbox.quarantine(source=SOURCE, raw=raw, reason=str(error))
            log.warning("email quarantined as #%s: %s", item, error)
            return None
        result = await self._cases.ingest(inbound)
        log.info(
            "email %s → case #%s%s",
            inbound.external_id,
            result.case.number,
            " (duplicate)" if result.duplicate else "",
        )
        return result.case.number

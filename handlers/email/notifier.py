"""Delivers customer-facing outbox items of email cases as threaded mail."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from handlers.email import texts
from handlers.email.compose import OutgoingEmail, OutgoingFile, compose
from handlers.email.rating_page import rating_url
from handlers.email.smtp_sender import SmtpRejected, SmtpSender
from services.bounces import Bounces
from services.cases.ratings import SCORES
from services.outbox import AUTOMATIC_KINDS, OutboxKind
from services.sent_mail import MailCaps, SentMail
from services.types import TEAM_VOICE, CaseView, Channel, ReplyVoice
from storage.models import Attachment, OutboxItem

log = logging.getLogger(__name__)

MAX_REFERENCES = 20  # the newest ids of the thread; enough for every mail client to thread
AttachmentReader = Callable[[int], Awaitable[Attachment | None]]  # a stored file by id


def _answers_unvouched_sender(item: OutboxItem) -> bool:
    """Whether the mail answers a sender nobody authenticated: an acknowledgement is the one
    automatic mail anyone can make us send by writing, so only it meets the domain cap, and
    only when our receiving server did not vouch for the sender (services/sent_mail.py)."""
    return item.kind == OutboxKind.CUSTOMER_ACK and not item.payload.get("sender_authenticated")


class EmailNotifier:
    def __init__(
        self,
        sender: SmtpSender,
        sent: SentMail,
        *,
        support_email: str,
        reopen_window_hours: float,
        caps: MailCaps,
        clock: Callable[[], datetime],
        voice: ReplyVoice = TEAM_VOICE,
        public_url: str | None = None,
        attachments: AttachmentReader | None = None,
        bounces: Bounces | None = None,
    ) -> None:
        self._attachments = attachments
        self._bounces = bounces  # told of a mail refused for good
        self._voice = voice
        self._public_url = public_url
        self._sender = sender
        self._sent = sent
        self._support = support_email
        self._reopen_days = reopen_window_hours / 24
        self._caps = caps
        self._clock = clock

    def _text(self, item: OutboxItem, view: CaseView) -> str:
        case, customer = view.case, view.customer
        match OutboxKind(item.kind):
            case OutboxKind.CUSTOMER_ACK:
                return texts.acknowledgement(case.number, customer.name, case.subject)
            case OutboxKind.CUSTOMER_REPLY:
                author = str(item.payload.get("author", ""))
                return texts.agent_reply(
                    str(item.payload.get("text", "")), self._voice.signature(author)
                )
            case OutboxKind.CUSTOMER_RESOLVED:
                return texts.resolution(case.number, self._reopen_days, self._links(item, view))
            case OutboxKind.CUSTOMER_REMINDER:
                return texts.reminder(case.number, customer.name, case.subject)
            case OutboxKind.CUSTOMER_NUDGE:
                return texts.nudge(case.number, customer.name, case.subject)
            case _:
                raise ValueError(f"{item.kind} is not for customers")

    def _links(self, item: OutboxItem, view: CaseView) -> dict[int, str] | None:
        """The one-click rating links (handlers/email/rating_page.py), when the case asks."""
        token = item.payload.get("rating")
        if not token or not self._public_url:
            return None
        return {
            score: rating_url(self._public_url, str(view.case.public_id), str(token), score)
            for score in SCORES
        }

    async def _files(self, item: OutboxItem) -> tuple[OutgoingFile, ...]:
        """The files an agent attached to the reply (kept ones only: the others were never
        stored)."""
        ids = item.payload.get("attachment_ids") or []
        if not ids or self._attachments is None:
            return ()
        found = [await self._attachments(int(i)) for i in ids]
        return tuple(
            OutgoingFile(filename=a.filename, content_type=a.content_type, content=a.content)
            for a in found
            if a is not None and a.content is not None
        )

    def _sender_name(self, item: OutboxItem) -> str:
        """`Agnes (Acme Support)` on an agent's reply; the team's name on what a machine wrote."""
        if item.kind == OutboxKind.CUSTOMER_REPLY:
            return self._voice.sender(str(item.payload.get("author", "")))
        return self._voice.team

    async def deliver(self, item: OutboxItem, view: CaseView) -> None:
        case, customer = view.case, view.customer
        if not customer.email:
            raise ValueError(f"case #{case.number}: the customer has no email address")
        text = self._text(item, view)
        automatic = item.kind in AUTOMATIC_KINDS
        domain = self._support.rpartition("@")[2]
        # One id per outbox row: a retry after a crash re-sends the same message.
        message_id = f"<casebot.{case.number}.{item.id}@{domain}>"
        known = await self._sent.thread(case.number, Channel.EMAIL)
        thread = [mid for mid, _ in known if mid != message_id]
        theirs = [mid for mid, ours in known if not ours]
        message = compose(
            OutgoingEmail(
                to=customer.email,
                case_number=case.number,
                original_subject=case.subject,
                text=text,
                automatic=automatic,
                in_reply_to=theirs[-1] if theirs else (thread[-1] if thread else None),
                references=tuple(thread[-MAX_REFERENCES:]),
                files=await self._files(item),
            ),
            sender=self._support,
            sender_name=self._sender_name(item),
            now=self._clock(),
            message_id=message_id,
        )
        if automatic:
            over = await self._sent.reserve(
                case_id=case.number,
                message_id=message_id,
                recipient=customer.email,
                kind=item.kind,
                caps=self._caps,
                per_domain=_answers_unvouched_sender(item),
            )
            if over is not None:
                await self._sent.skipped(
                    case_id=case.number, kind=item.kind, recipient=customer.email, reason=over
                )
                log.warning("case #%s: %s not sent: %s", case.number, item.kind, over)
                return
        try:
            await self._sender.send(message)
        except SmtpRejected as refused:
            if self._bounces is not None:
                why = f"{refused.code} {refused.reason}"
                await self._bounces.refused(case.number, message_id, customer.email, why)
            raise
        except Exception:
            if automatic:  # not sent: it does not count against the caps (a retry re-counts)
                await self._sent.release(message_id)
            raise
        if automatic:
            return  # `reserve` recorded it before sending
        await self._sent.record(
            case_id=case.number,
            message_id=message_id,
            recipient=customer.email,
            kind=item.kind,
            automatic=automatic,
        )

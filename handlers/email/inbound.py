"""A parsed email, as the case service takes it: the same intake as Slack and webhooks."""

from __future__ import annotations

from handlers.email.authentication import check_sender
from handlers.email.parsing import ParsedEmail
from services.attachments import within_message
from services.types import Channel, CustomerIdentity, InboundMessage, IncomingAttachment


class NoSender(ValueError):
    """Mail without a usable From address cannot belong to a customer (it is quarantined)."""


def to_inbound(parsed: ParsedEmail, trusted_authserv_id: str | None = None) -> InboundMessage:
    """The customer's message: the new text, with what was cut or attached noted under it,
    and whether our receiving server (`trusted_authserv_id`) authenticated its sender."""
    if not parsed.from_address:
        raise NoSender(f"{parsed.message_id}: no usable From address")
    files = within_message(
        [
            IncomingAttachment(
                filename=a.filename or "unnamed",
                content_type=a.content_type,
                size=a.size,
                content=a.content,
            )
            for a in parsed.attachments
        ]
    )
    footer = [f"[{note}]" for note in parsed.notes]
    footer += [
        f"[attachment: {a.filename} ({a.content_type}, {a.size:,} bytes)"
        + (f": not kept, {a.refused}]" if a.refused else "]")
        for a in files
    ]
    body = parsed.text if not footer else f"{parsed.text}\n\n" + "\n".join(footer)
    references = tuple(
        dict.fromkeys([*([parsed.in_reply_to] if parsed.in_reply_to else []), *parsed.references])
    )
    return InboundMessage(
        source=Channel.EMAIL,
        external_id=parsed.message_id,
        body=body.strip(),
        customer=CustomerIdentity(name=parsed.from_name, email=parsed.from_address),
        subject=parsed.subject or None,
        case_number=parsed.case_number,
        references=references,
        allow_auto_reply=parsed.auto_reply_reason is None,
        attachments=files,
        sender_authenticated=check_sender(
            parsed.authentication_results, parsed.from_address, trusted_authserv_id
        ).verified,
    )

"""Outbound email as the customer's mail client expects it: one thread per case.

Pure functions: subject `Re: <original> [Case #N]`, our own Message-ID, In-Reply-To and
References pointing at the customer's messages, a loop header on everything we send, and
`Auto-Submitted: auto-replied` on what a machine wrote (acknowledgements, reminders).
Every header value goes through `header_text` or `printable_message_id`: a customer's
subject or message id never brings a line break, a control character or an encoded word.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from handlers.email.headers import header_text, printable_message_id

LOOP_HEADER = "X-Casebot-Loop"
MAX_REFERENCES = 20  # long threads keep the first and the latest ids, as RFC 5322 suggests

_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|fw|fwd|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_CASE_TAG = re.compile(r"\s*\[\s*case\s*#\s*\d+\s*\]\s*", re.IGNORECASE)
_TOKEN = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+$")  # a MIME type's parts (RFC 6838)


@dataclass(frozen=True)
class OutgoingFile:
    """A file sent with a mail (an agent's attachment to a reply)."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingEmail:
    """What the case service wants said to an email customer."""

    to: str
    case_number: int
    original_subject: str
    text: str
    automatic: bool
    in_reply_to: str | None = None
    references: Sequence[str] = field(default_factory=tuple)
    files: Sequence[OutgoingFile] = field(default_factory=tuple)


def reply_subject(original: str, case_number: int) -> str:
    """`Re: <original> [Case #N]`, without piling up prefixes or tags on each round trip."""
    core = _CASE_TAG.sub(" ", _REPLY_PREFIX.sub("", header_text(original))).strip()
    core = core or "Your support request"
    return f"Re: {core} [Case #{case_number}]"


def thread_references(in_reply_to: str | None, references: Sequence[str]) -> list[str]:
    """The References header: the thread so far plus the message we answer, deduplicated."""
    chain = [r for r in references if printable_message_id(r)]
    if in_reply_to and printable_message_id(in_reply_to) and in_reply_to not in chain:
        chain.append(in_reply_to)
    unique = list(dict.fromkeys(chain))
    if len(unique) > MAX_REFERENCES:
        unique = [unique[0], *unique[-(MAX_REFERENCES - 1) :]]
    return unique


def html_body(text: str) -> str:
    """The same words as HTML: escaped, paragraphs and line breaks kept."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    inner = "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.splitlines()) + "</p>"
        for p in paragraphs
    )
    return (
        f'<!doctype html>\n<html><body style="font-family: sans-serif">\n{inner}\n</body></html>\n'
    )


def compose(
    mail: OutgoingEmail,
    *,
    sender: str,
    sender_name: str = "Support",
    now: datetime,
    message_id: str | None = None,
) -> EmailMessage:
    """The full message, ready for SMTP; `message_id` lets a retry reuse the same id."""
    domain = sender.rpartition("@")[2] or "casebot.invalid"
    message = EmailMessage()
    message["From"] = formataddr((header_text(sender_name), header_text(sender)))
    message["To"] = header_text(mail.to)
    message["Subject"] = reply_subject(mail.original_subject, mail.case_number)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id or make_msgid(
        idstring=f"case{mail.case_number}", domain=domain
    )
    if mail.in_reply_to and printable_message_id(mail.in_reply_to):
        message["In-Reply-To"] = mail.in_reply_to
    references = thread_references(mail.in_reply_to, mail.references)
    if references:
        message["References"] = " ".join(references)
    message[LOOP_HEADER] = sender
    if mail.automatic:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(mail.text)
    message.add_alternative(html_body(mail.text), subtype="html")
    for file in mail.files:
        maintype, _, subtype = file.content_type.partition("/")
        if not (maintype and subtype) or not _TOKEN.match(maintype + subtype):
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(
            file.content, maintype=maintype, subtype=subtype, filename=header_text(file.filename)
        )
    return message

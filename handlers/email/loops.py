"""Auto-reply and bounce detection: answering these would start mail loops."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from email import message_from_bytes, policy
from email.message import Message

from handlers.email.headers import message_ids

Headers = Mapping[str, Sequence[str]]

_DAEMONS = frozenset({"mailer-daemon", "postmaster"})
_MSG_ID_LINE = re.compile(r"^message-id:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


def _first(headers: Headers, name: str) -> str | None:
    values = headers.get(name.lower())
    return values[0].strip() if values else None


def _local_part(address: str) -> str:
    return address.split("@", 1)[0].lower()


def is_mailer_daemon(address: str) -> bool:
    """mailer-daemon@… sends bounces."""
    return _local_part(address) == "mailer-daemon"


def auto_reply_reason(headers: Headers, from_address: str, *, is_bounce: bool) -> str | None:
    """Why no automatic reply may be sent to this message, or None when one may."""
    if is_bounce:
        return "bounce (delivery status notification)"
    auto_submitted = _first(headers, "auto-submitted")
    if auto_submitted is not None:
        token = auto_submitted.split(";", 1)[0].strip().lower()
        if token and token != "no":
            return f"Auto-Submitted: {token}"
    precedence = (_first(headers, "precedence") or "").lower()
    if precedence in ("bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    for name in ("X-Auto-Response-Suppress", "X-Autoreply", "X-Autorespond", "X-Loop"):
        if _first(headers, name) is not None:
            return f"{name} present"
    if _first(headers, "x-casebot-loop") is not None:
        return "X-Casebot-Loop present (our own mail came back)"
    return_path = _first(headers, "return-path")
    if return_path is not None and return_path.replace(" ", "") in ("<>", ""):
        return "empty Return-Path"
    if _local_part(from_address) in _DAEMONS:
        return f"sent by {_local_part(from_address)}"
    return None


def is_dsn(msg: Message) -> bool:
    """multipart/report; report-type=delivery-status."""
    if msg.get_content_type() != "multipart/report":
        return False
    report_type = msg.get_param("report-type")
    return isinstance(report_type, str) and report_type.lower() == "delivery-status"


def _ids_in_header_block(data: bytes) -> str | None:
    headers = message_from_bytes(data, policy=policy.compat32)
    for name, value in headers.raw_items():
        if name.lower() == "message-id":
            ids = message_ids(str(value))
            if ids:
                return ids[0]
    return None


def bounced_message_id(msg: Message) -> str | None:
    """The Message-ID of the original message returned inside a bounce, if it can be found."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global") and part.is_multipart():
            inner = part.get_payload(0)
            if isinstance(inner, Message):
                for name, value in inner.raw_items():
                    if name.lower() == "message-id" and message_ids(str(value)):
                        return message_ids(str(value))[0]
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found = _ids_in_header_block(payload.lstrip())
                if found:
                    return found
    for part in msg.walk():  # plain-text bounces quote the original headers inline
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                match = _MSG_ID_LINE.search(payload.decode("latin-1"))
                if match:
                    return match.group(1)
    return None

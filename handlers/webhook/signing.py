"""HMAC-SHA256 signatures of webhook requests and replies (pure functions, clock passed in).

Scheme (documented in .env.example): the sender puts the unix time in `X-Casebot-Timestamp`
and `"sha256=" + hex(HMAC-SHA256(secret, f"{timestamp}." + body))` in `X-Casebot-Signature`.
Signing the timestamp with the body lets the receiver refuse stale (replayed) requests.
"""

from __future__ import annotations

import hashlib
import hmac
import re

TIMESTAMP_HEADER = "X-Casebot-Timestamp"
SIGNATURE_HEADER = "X-Casebot-Signature"
PREFIX = "sha256="

_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class SignatureError(Exception):
    """A request that must be refused with 401; the message says why, without secrets."""


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The `X-Casebot-Signature` value for `body` sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return PREFIX + digest.hexdigest()


def signed_headers(secret: str, body: bytes, *, now: float) -> dict[str, str]:
    """Both headers for sending `body` at unix time `now`."""
    timestamp = int(now)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: str,
    body: bytes,
    *,
    timestamp: str | None,
    signature_header: str | None,
    now: float,
    max_age_seconds: float,
) -> int:
    """Check a request's headers against its raw body; returns the signed timestamp.

    Raises SignatureError when a header is missing or malformed, the signature does not
    match, or the timestamp is more than `max_age_seconds` away from `now` (either way).
    """
    if not timestamp or not signature_header:
        raise SignatureError("missing signature: send X-Casebot-Timestamp and X-Casebot-Signature")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureError("malformed X-Casebot-Timestamp: unix seconds expected")
    expected = signature(secret, timestamp, body)
    given = signature_header.strip()
    if not given.isascii() or not hmac.compare_digest(expected, given):
        raise SignatureError("bad signature")
    signed_at = int(timestamp)
    if abs(now - signed_at) > max_age_seconds:
        raise SignatureError("stale request: X-Casebot-Timestamp is too far from now")
    return signed_at

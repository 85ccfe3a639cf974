"""Webhook signatures: the documented scheme, refusals, and a property over any body."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.webhook.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    signature,
    signed_headers,
    verify,
)

SECRET = "s3cret"
NOW = 1_800_000_000.0


def check(body: bytes, headers: dict[str, str], *, secret: str = SECRET, now: float = NOW) -> int:
    return verify(
        secret,
        body,
        timestamp=headers.get(TIMESTAMP_HEADER),
        signature_header=headers.get(SIGNATURE_HEADER),
        now=now,
        max_age_seconds=300,
    )


def test_the_signature_is_the_documented_hmac_of_timestamp_dot_body() -> None:
    body = b'{"customer_id": "+1555", "channel": "sms", "message": "hi"}'
    expected = hmac.new(b"s3cret", b"1800000000." + body, hashlib.sha256).hexdigest()

    headers = signed_headers(SECRET, body, now=NOW + 0.9)

    assert headers == {TIMESTAMP_HEADER: "1800000000", SIGNATURE_HEADER: "sha256=" + expected}
    assert check(body, headers) == 1_800_000_000


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing"),
        ({TIMESTAMP_HEADER: "1800000000"}, "missing"),
        ({SIGNATURE_HEADER: signature(SECRET, 1_800_000_000, b"x")}, "missing"),
        ({TIMESTAMP_HEADER: "", SIGNATURE_HEADER: "sha256=00"}, "missing"),
        ({TIMESTAMP_HEADER: "1.8e9", SIGNATURE_HEADER: "sha256=00"}, "malformed"),
        ({TIMESTAMP_HEADER: "-1800000000", SIGNATURE_HEADER: "sha256=00"}, "malformed"),
        ({TIMESTAMP_HEADER: "1800000000", SIGNATURE_HEADER: "sha256=00"}, "bad signature"),
        ({TIMESTAMP_HEADER: "1800000000", SIGNATURE_HEADER: "sha256=é"}, "bad signature"),
        (
            {
                TIMESTAMP_HEADER: "1800000000",
                SIGNATURE_HEADER: signature(SECRET, 1_800_000_000, b"x")[len("sha256=") :],
            },
            "bad signature",
        ),
    ],
)
def test_missing_malformed_and_wrong_signatures_are_refused(
    headers: dict[str, str], reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        check(b"x", headers)


@pytest.mark.parametrize("skew", [-301, 301, -10_000])
def test_a_timestamp_beyond_the_window_either_way_is_stale(skew: int) -> None:
    headers = signed_headers(SECRET, b"x", now=NOW + skew)
    with pytest.raises(SignatureError, match="stale"):
        check(b"x", headers)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_a_timestamp_within_the_window_is_accepted(skew: int) -> None:
    assert check(b"x", signed_headers(SECRET, b"x", now=NOW + skew)) == int(NOW + skew)


def test_the_timestamp_is_signed_too() -> None:
    headers = signed_headers(SECRET, b"x", now=NOW - 1000)
    headers[TIMESTAMP_HEADER] = str(int(NOW))  # freshened by whoever replays it
    with pytest.raises(SignatureError, match="bad signature"):
        check(b"x", headers)


@given(
    body=st.binary(max_size=2000),
    timestamp=st.integers(min_value=0, max_value=4_000_000_000),
    secret=st.text(min_size=1, max_size=64),
    other_secret=st.text(min_size=1, max_size=64),
    flip=st.integers(min_value=0),
    extra=st.binary(min_size=1, max_size=8),
)
def test_any_body_verifies_with_its_own_signature_and_with_nothing_else(
    body: bytes, timestamp: int, secret: str, other_secret: str, flip: int, extra: bytes
) -> None:
    headers = signed_headers(secret, body, now=timestamp)

    assert check(body, headers, secret=secret, now=timestamp) == timestamp
    if other_secret != secret:
        with pytest.raises(SignatureError, match="bad signature"):
            check(body, headers, secret=other_secret, now=timestamp)
    with pytest.raises(SignatureError, match="bad signature"):
        check(body + extra, headers, secret=secret, now=timestamp)
    if body:
        index = flip % len(body)
        altered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
        with pytest.raises(SignatureError, match="bad signature"):
            check(altered, headers, secret=secret, now=timestamp)

"""Agents by email: only the trusted server's verdict counts, and it must be complete."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.email.authentication import check_sender, parse_authentication_results

MX = "mx.example.com"
ADMIN = "lead@example.com"
GOOD = (
    f"{MX}; dkim=pass (2048-bit key) header.d=example.com header.s=s1; "
    "spf=pass smtp.mailfrom=lead@example.com; dmarc=pass (p=REJECT) header.from=example.com"
)


def test_parses_methods_results_and_properties() -> None:
    parsed = parse_authentication_results(GOOD)
    assert parsed is not None
    assert parsed.authserv_id == MX
    assert [(r.method, r.result) for r in parsed.results] == [
        ("dkim", "pass"),
        ("spf", "pass"),
        ("dmarc", "pass"),
    ]
    assert parsed.results[2].properties == {"header.from": "example.com"}


def test_version_comments_and_quotes() -> None:
    parsed = parse_authentication_results(
        'MX.Example.com 1; (comment (nested; with semicolon)) dkim/1=PASS header.i="@ex;ample.com"'
    )
    assert parsed is not None
    assert parsed.authserv_id == MX
    assert parsed.results[0].method == "dkim" and parsed.results[0].result == "pass"
    assert parsed.results[0].properties["header.i"] == "@ex;ample.com"


@pytest.mark.parametrize(
    ("headers", "verified", "why"),
    [
        ([GOOD], True, "dmarc=pass"),
        (
            [f"{MX}; spf=pass smtp.mailfrom=example.com; dmarc=pass header.from=example.com"],
            True,
            "pass",
        ),
        ([f"{MX}; dkim=pass header.d=example.com; dmarc=pass"], True, "pass"),
        ([f"{MX}; dkim=pass header.d=example.com; spf=pass; dmarc=fail"], False, "no dmarc=pass"),
        ([f"{MX}; dkim=fail; spf=softfail; dmarc=pass header.from=example.com"], False, "neither"),
        ([f"{MX}; dkim=pass; spf=pass; dmarc=pass header.from=evil.test"], False, "another domain"),
        ([f"{MX}; none"], False, "no dmarc"),
        ([GOOD.replace(MX, "mx.evil.test")], False, "no Authentication-Results from"),
        ([], False, "no Authentication-Results from"),
        # Our server's real verdict is on top; a forged "pass" further down never counts.
        ([f"{MX}; dkim=none; spf=fail; dmarc=fail", GOOD], False, "no dmarc=pass"),
    ],
)
def test_check_sender(headers: list[str], verified: bool, why: str) -> None:
    check = check_sender(headers, ADMIN, MX)
    assert check.verified is verified
    assert why in check.reason


def test_nothing_is_trusted_without_a_configured_server() -> None:
    check = check_sender([GOOD], ADMIN, None)
    assert not check.verified and "TRUSTED_AUTHSERV_ID" in check.reason


@given(st.text(max_size=300))
def test_arbitrary_text_never_raises_and_verifies_only_a_complete_trusted_verdict(
    value: str,
) -> None:
    parse_authentication_results(value)
    check = check_sender([value], ADMIN, MX)
    if check.verified:
        lowered = value.lower()
        assert lowered.lstrip().startswith(MX) and "dmarc=pass" in lowered


@given(st.sampled_from(["dkim", "spf"]), st.sampled_from(["fail", "none", "neutral", "temperror"]))
def test_dmarc_pass_alone_is_not_enough(method: str, result: str) -> None:
    value = f"{MX}; {method}={result}; dmarc=pass header.from=example.com"
    assert not check_sender([value], ADMIN, MX).verified

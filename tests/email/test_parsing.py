"""Inbound email parsing against a corpus of difficult messages, plus fuzzing."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.email.parsing import ParsedEmail, UnparseableEmail, parse_email
from tests.email.corpus import CORPUS, EXPECTED

SMALL = 1000  # bytes; corpus attachments above this are not kept


def parse_file(name: str) -> ParsedEmail:
    return parse_email((CORPUS / name).read_bytes(), small_attachment_bytes=SMALL)


def test_corpus_is_complete() -> None:
    files = {p.name for p in CORPUS.glob("*.eml")}
    assert files == set(EXPECTED)
    assert len(files) >= 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus(name: str) -> None:
    expect = EXPECTED[name]
    parsed = parse_file(name)
    assert parsed.subject == expect.subject
    assert parsed.from_address == expect.from_address
    for fragment in expect.has:
        assert fragment in parsed.text, (fragment, parsed.text)
    for fragment in expect.lacks:
        assert fragment not in parsed.text, (fragment, parsed.text)
    for fragment in expect.notes:
        assert any(fragment in note for note in parsed.notes), (fragment, parsed.notes)
    for attr, value in expect.attrs.items():
        if attr == "notes":
            assert parsed.notes == value
        else:
            assert getattr(parsed, attr) == value, attr
    assert parsed.message_id.startswith("<") and parsed.message_id.endswith(">")
    if parsed.is_bounce:
        assert parsed.auto_reply_reason is not None


def test_rfc2231_filename_is_decoded_and_path_stripped() -> None:
    (att,) = parse_file("10_rfc2231_filename.eml").attachments
    assert att.filename == "Rechnung März.pdf"
    assert att.content_type == "application/pdf"
    assert att.content == b"%PDF-1.4 fake" and att.size == 13


def test_nested_attachment_is_listed() -> None:
    (att,) = parse_file("13_nested_mixed_alternative.eml").attachments
    assert (att.filename, att.content_type, att.size) == ("screen.png", "image/png", 8)


def test_large_attachment_is_listed_but_not_kept() -> None:
    small, big = parse_file("32_large_attachment.eml").attachments
    assert (small.filename, small.content) == ("small.txt", b"tiny")
    assert big.filename == "groß.log"
    assert big.size == 5120 and big.content is None
    assert big.content_type == "application/octet-stream"


def test_missing_message_id_is_stable_and_synthetic() -> None:
    first, second = parse_file("15_missing_message_id.eml"), parse_file("15_missing_message_id.eml")
    assert first.message_id == second.message_id
    digest = hashlib.sha256((CORPUS / "15_missing_message_id.eml").read_bytes()).hexdigest()
    assert first.message_id == f"<{digest}@casebot.invalid>"


def test_quote_stripping_keeps_full_text() -> None:
    parsed = parse_file("18_outlook_reply.eml")
    assert "turning it off and on again" in parsed.full_text
    assert parsed.text == "Yes, that worked."


def test_crlf_and_lf_give_the_same_text() -> None:
    crlf, lf = parse_file("30_crlf_line_endings.eml"), parse_file("31_bare_lf_line_endings.eml")
    assert crlf.text == lf.text
    assert "\r" not in crlf.full_text and "> old" in crlf.full_text


@pytest.fixture
def huge_email(tmp_path: Path) -> Path:
    path = tmp_path / "huge.eml"
    body = "".join(f"line {i} of a very long log paste\n" for i in range(20_000))
    path.write_bytes(f"From: a@example.com\nSubject: huge\nMessage-ID: <huge@x>\n\n{body}".encode())
    return path


def test_huge_body_is_truncated(huge_email: Path) -> None:
    parsed = parse_email(huge_email.read_bytes(), max_text_chars=100_000)
    assert parsed.truncated
    assert len(parsed.text) == 100_000 and len(parsed.full_text) == 100_000
    assert "body cut at 100,000 characters" in parsed.notes


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n", b"\x00\x01\x02 just noise"])
def test_not_an_email(raw: bytes) -> None:
    with pytest.raises(UnparseableEmail):
        parse_email(raw)


def _assert_plain(parsed: ParsedEmail) -> None:
    for field in dataclasses.fields(parsed):
        value = getattr(parsed, field.name)
        if field.type == "str":
            assert isinstance(value, str), field.name
            value.encode("utf-8")  # no lone surrogates
    assert all(isinstance(n, str) for n in parsed.notes)
    assert all(isinstance(a, str) for a in parsed.to + parsed.references)


_CORPUS_BYTES = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_CORPUS_BYTES)))
    for _ in range(draw(st.integers(0, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[pos:]
        else:
            data[pos:pos] = draw(st.binary(max_size=40)) or b"=?x?B?" + b"\xff"
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mutated(), st.binary(max_size=400)))
def test_fuzz_never_raises_anything_else(raw: bytes) -> None:
    try:
        parsed = parse_email(raw, max_text_chars=5_000, small_attachment_bytes=100)
    except UnparseableEmail as exc:
        assert str(exc)
        return
    _assert_plain(parsed)


def test_deeply_nested_mime_degrades_to_raw_body() -> None:
    head = b'From: a@example.com\nSubject: deep\nContent-Type: multipart/mixed; boundary="b0"\n\n'
    body = b"".join(
        b'--b%d\nContent-Type: multipart/mixed; boundary="b%d"\n\n' % (i, i + 1)
        for i in range(2000)
    )
    parsed = parse_email(head + body + b"--b2000\nContent-Type: text/plain\n\nhi\n")
    assert parsed.subject == "deep"
    assert any("MIME structure unreadable" in note for note in parsed.notes)


def test_moderately_nested_mime_is_cut_off() -> None:
    head = b'From: a@example.com\nSubject: deep\nContent-Type: multipart/mixed; boundary="b0"\n\n'
    body = b"".join(
        b'--b%d\nContent-Type: multipart/mixed; boundary="b%d"\n\n' % (i, i + 1) for i in range(60)
    )
    parsed = parse_email(head + body)
    assert "MIME nesting too deep; inner parts ignored" in parsed.notes


def test_html_and_plain_inline_parts_prefer_plain() -> None:
    raw = (
        b"From: a@example.com\nSubject: both\nContent-Type: multipart/mixed; boundary=m\n\n"
        b"--m\nContent-Type: text/html\n\n<p>html</p>\n"
        b"--m\nContent-Type: text/plain\n\nplain\n--m--\n"
    )
    assert parse_email(raw).text == "plain"


def test_a_case_tag_beyond_any_case_number_is_ignored() -> None:
    """Case numbers are 32-bit in the database; a longer tag must not become a lookup."""
    raw = b"From: a@example.com\nSubject: Re: help [Case #1234567890]\n\nhi"
    assert parse_email(raw).case_number is None
    assert parse_email(raw.replace(b"1234567890", b"123456789")).case_number == 123456789

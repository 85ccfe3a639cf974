"""Inbound email parsing against a corpus of difficult messages, plus fuzzing."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.email.parsing import ParsedEmail, UnparseableEmail, parse_email

CORPUS = Path(__file__).resolve().parent.parent / "data" / "email"
JANE = "jane.doe@example.com"


@dataclasses.dataclass(frozen=True)
class Expect:
    """What the case will show for one corpus file."""

    subject: str
    from_address: str = JANE
    has: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # substrings that must appear in some note
    attrs: dict[str, Any] = dataclasses.field(default_factory=dict)


def e(
    subject: str,
    from_address: str = JANE,
    *,
    has: tuple[str, ...] = (),
    lacks: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
    **attrs: Any,
) -> Expect:
    return Expect(subject, from_address, has, lacks, notes, attrs)


CLEAN = {"auto_reply_reason": None, "is_bounce": False, "truncated": False}

EXPECTED: dict[str, Expect] = {
    "01_plain_ascii.eml": e(
        "Printer on fire",
        has=("the printer is on fire again.",),
        from_name="Jane Doe",
        to=("support@casebot.example",),
        message_id="<plain-1@example.com>",
        has_message_id=True,
        date=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        notes=(),
        case_number=None,
        **CLEAN,
    ),
    "02_utf8_8bit.eml": e(
        "Umlaut test", has=("Grüße aus K\u00f6ln \u2013 das Gerät spinnt. 日本語も",)
    ),
    "03_quoted_printable.eml": e(
        "QP body", has=("Café crème", "soft-wrapped by the mailer and must join"), lacks=("=C3",)
    ),
    "04_base64_body.eml": e("Base64 body", has=("naïve résumé",)),
    "05_latin1_declared_utf8_actual.eml": e(
        "Wrong charset", has=("The café is closed.",), lacks=("Ã",), notes=("UTF-8",)
    ),
    "06_unknown_charset.eml": e(
        "Unknown charset", has=("Naïve text",), notes=("unknown charset 'x-foo' read as latin-1",)
    ),
    "07_rfc2047_utf8_b.eml": e("Grüße aus Köln", has=("Body.",)),
    "08_rfc2047_utf8_q.eml": e("Café is closed today", from_name="Jürgen Müller"),
    "09_rfc2047_latin1.eml": e("Problème de facture"),
    "10_rfc2231_filename.eml": e("Invoice attached", has=("See the attached invoice.",)),
    "11_html_only.eml": e(
        "HTML only",
        has=("Hello & good morning,", "the login page\nis broken.", "Thanks — Jane"),
        lacks=("<p>", "alert", "color: red", "&amp;"),
        notes=("no text part; HTML converted",),
    ),
    "12_multipart_alternative.eml": e(
        "Alternative", has=("Plain version",), lacks=("HTML version",), attachments=()
    ),
    "13_nested_mixed_alternative.eml": e(
        "Nested with attachment", has=("Screenshot attached, see error.",), lacks=("<b>",)
    ),
    "14_forward_rfc822.eml": e(
        "Fwd: Order problem", has=("My order 1234 never arrived.",), notes=("forwarded",)
    ),
    "15_missing_message_id.eml": e("No id here", has_message_id=False),
    "16_empty_body.eml": e("Empty", text="", full_text="", notes=("empty message",)),
    "17_gmail_quoted_reply.eml": e(
        "Re: [Case #17] Login fails",
        has=("Still failing after the reset.",),
        lacks=("wrote:", "Please reset", ">"),
        case_number=17,
        in_reply_to="<case-17@casebot.example>",
        references=("<case-17-a@casebot.example>", "<case-17@casebot.example>"),
    ),
    "18_outlook_reply.eml": e(
        "RE: Question", has=("Yes, that worked.",), lacks=("Original Message", "turning it off")
    ),
    "19_outlook_from_sent_block.eml": e(
        "RE: Outlook without banner", has=("Please close the case.",), lacks=("We fixed it", "___")
    ),
    "20_signature_dashdash.eml": e(
        "Signature", has=("The export button does nothing.",), lacks=("ACME", "-- ")
    ),
    "21_sent_from_iphone.eml": e("Quick one", has=("Can you call me back?",), lacks=("iPhone",)),
    "22_auto_submitted.eml": e(
        "Out of office", auto_reply_reason="Auto-Submitted: auto-replied", is_bounce=False
    ),
    "23_precedence_bulk.eml": e("Newsletter", auto_reply_reason="Precedence: bulk"),
    "24_x_autoreply.eml": e("Automatic reply", auto_reply_reason="X-Autoreply present"),
    "25_dsn_bounce.eml": e(
        "Undelivered Mail Returned to Sender",
        "mailer-daemon@mx.example.com",
        has=("could not be delivered",),
        lacks=("Reporting-MTA", "we looked into it"),
        is_bounce=True,
        bounced_message_id="<case-9-reply-1@casebot.example>",
    ),
    "26_bounce_rfc822_headers.eml": e(
        "Delivery Status Notification (Failure)",
        "postmaster@mx.example.net",
        has=("failed permanently",),
        lacks=("Status: 5.0.0",),
        is_bounce=True,
        bounced_message_id="<case-10-reply-2@casebot.example>",
    ),
    "27_mailer_daemon_plain.eml": e(
        "Returned mail: see transcript for details",
        "mailer-daemon@old.example.org",
        from_name="Mail Delivery Subsystem",
        is_bounce=True,
        bounced_message_id="<case-11-reply-3@casebot.example>",
    ),
    "28_case_number_subject.eml": e("Re: [ case # 42 ] my issue", case_number=42),
    "29_malformed_headers.eml": e(
        "Malformed headers",
        "",
        from_name="Broken Person",
        to=(),
        date=None,
        message_id="<malformed-1@example.com>",
        has=("Body after broken headers.",),
        notes=("unreadable date", "without a colon"),
    ),
    "30_crlf_line_endings.eml": e(
        "CRLF message",
        text="Line one.\nLine two.",
        lacks=("\r",),
        date=datetime(2026, 11, 23, 8, tzinfo=UTC),
    ),
    "31_bare_lf_line_endings.eml": e(
        "LF message", text="Line one.\nLine two.", full_text="Line one.\nLine two."
    ),
    "32_large_attachment.eml": e(
        "Big log file", has=("Log attached.",), notes=("1 attachment(s) not kept: too large",)
    ),
    "33_loop_headers.eml": e(
        "Loop", auto_reply_reason="X-Casebot-Loop present (our own mail came back)"
    ),
    "34_empty_return_path.eml": e("Notification", auto_reply_reason="empty Return-Path"),
    "35_auth_results_auto_no.eml": e(
        "Authenticated",
        auto_reply_reason=None,
        authentication_results=(
            "mx.casebot.example; spf=pass smtp.mailfrom=example.com",
            "mx.casebot.example; dkim=pass header.d=example.com",
        ),
    ),
    "36_only_quoted.eml": e(
        "Fwd quote only", has=("> Everything here is quoted.",), notes=("whole body",)
    ),
    "37_html_gmail_quote.eml": e(
        "Re: HTML reply", has=("New answer in HTML.",), lacks=("Old question", "wrote:")
    ),
    "38_raw_utf8_subject_header.eml": e(
        "R\u00fcckfrage zur Lieferung", has=("Wo bleibt das Paket?",), notes=()
    ),
    "39_windows1252_smart_quotes.eml": e(
        "Quotes", text="It \u201cworks\u201d \u2013 sort of.", notes=()
    ),
    "40_related_html_inline_image_suppress.eml": e(
        "Related HTML",
        text="See the picture:",
        notes=("no text part; HTML converted",),
        auto_reply_reason="X-Auto-Response-Suppress present",
    ),
}

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

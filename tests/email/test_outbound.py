"""Outbound email: threading headers, loop protection markers, escaping, and real SMTP."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.email.compose import (
    LOOP_HEADER,
    MAX_REFERENCES,
    OutgoingEmail,
    compose,
    html_body,
    reply_subject,
    thread_references,
)
from handlers.email.headers import header_text
from handlers.email.parsing import parse_email
from handlers.email.smtp_sender import SmtpConfig, SmtpError, SmtpSender
from tests.smtp_server import free_port, smtp_server

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SUPPORT = "support@example.com"


def reply(**overrides: object) -> OutgoingEmail:
    values: dict[str, object] = {
        "to": "carol@example.org",
        "case_number": 7,
        "original_subject": "Charged twice",
        "text": "Hello Carol,\n\nwe refunded <b>both</b> payments & closed the ticket.\n\nAgnes",
        "automatic": False,
        "in_reply_to": "<c2@mail.example.org>",
        "references": ("<c1@mail.example.org>",),
    }
    values.update(overrides)
    return OutgoingEmail(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("Charged twice", "Re: Charged twice [Case #7]"),
        ("Re: Charged twice [Case #7]", "Re: Charged twice [Case #7]"),
        ("RE: re: AW: Charged twice", "Re: Charged twice [Case #7]"),
        ("Fwd: [case #7] Charged twice", "Re: Charged twice [Case #7]"),
        ("", "Re: Your support request [Case #7]"),
    ],
)
def test_reply_subject_never_piles_up(original: str, expected: str) -> None:
    assert reply_subject(original, 7) == expected


@given(st.text(max_size=80))
def test_reply_subject_is_stable_over_round_trips(original: str) -> None:
    once = reply_subject(original, 12)
    assert reply_subject(once, 12) == once
    assert once.startswith("Re: ") and once.endswith("[Case #12]")


def b_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


INJECTION = b_word("=?utf-8?q?Hi=0D=0AReply-To:_x@evil.example=0D=0A=0D=0ABody?=")
HEADERS_WE_WRITE = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    LOOP_HEADER,
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "MIME-Version",
    "Content-Type",
}


def header_block(raw: bytes) -> list[bytes]:
    """The header lines of a message on the wire, folded lines joined."""
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    lines: list[bytes] = []
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t") and lines:
            lines[-1] += line
        else:
            lines.append(line)
    return lines


def test_a_doubly_encoded_subject_injects_no_header() -> None:
    """CVE-2024-6923: one decoding pass left an encoded word with CR/LF, which CPython
    before 3.11.10 wrote back decoded: a Reply-To and a body of the sender's choosing."""
    subject = parse_email(
        f"From: x@evil.example\r\nSubject: {INJECTION}\r\nMessage-ID: <i@x>\r\n\r\nhi\r\n".encode()
    ).subject
    assert subject == "Hi Reply-To: x@evil.example Body"
    raw = bytes(compose(reply(original_subject=subject), sender=SUPPORT, now=NOW))
    names = {line.split(b":", 1)[0].decode() for line in header_block(raw)}
    assert names <= HEADERS_WE_WRITE
    sent = message_from_bytes(raw, policy=policy.default)
    assert sent["Subject"] == "Re: Hi Reply-To: x@evil.example Body [Case #7]"
    assert sent["Reply-To"] is None


@given(
    st.lists(
        st.sampled_from(["Hi", "\r\n", "\n", "\r", "Reply-To: a@b", "\x00", "\u2028", "é", " "]),
        max_size=8,
    ).map("".join),
    st.integers(min_value=0, max_value=3),
    st.sampled_from(["q", "b"]),
)
def test_no_nesting_of_encoded_words_brings_a_header(text: str, layers: int, how: str) -> None:
    value = text
    for _ in range(layers):
        if how == "b":
            value = b_word(value)
        else:
            quoted = "".join(f"={b:02X}" for b in value.encode())
            value = f"=?utf-8?q?{quoted}?="
    stored = header_text(value)
    assert not any(ord(c) < 32 or c in "\x7f\u2028\u2029" for c in stored)
    assert "=?" not in stored
    raw = bytes(compose(reply(original_subject=stored), sender=SUPPORT, now=NOW))
    names = {line.split(b":", 1)[0].decode() for line in header_block(raw)}
    assert names <= HEADERS_WE_WRITE
    written = str(message_from_bytes(raw, policy=policy.default)["Subject"])
    assert "=?" not in written and "\n" not in written and "\r" not in written


def test_message_ids_we_cannot_write_back_verbatim_are_left_out() -> None:
    raw = bytes(
        compose(
            reply(
                in_reply_to="<a\r\nBcc: x@evil.example>", references=("<=?utf-8?q?x?=@y>", "<ok@x>")
            ),
            sender=SUPPORT,
            now=NOW,
        )
    )
    sent = message_from_bytes(raw, policy=policy.default)
    assert sent["In-Reply-To"] is None
    assert str(sent["References"]) == "<ok@x>"
    assert b"Bcc" not in raw


def test_references_chain_the_thread_and_stay_bounded() -> None:
    assert thread_references("<b>", ["<a>"]) == ["<a>", "<b>"]
    assert thread_references("<a>", ["<a>"]) == ["<a>"]
    long = [f"<{i}>" for i in range(50)]
    bounded = thread_references("<new>", long)
    assert len(bounded) == MAX_REFERENCES and bounded[0] == "<0>" and bounded[-1] == "<new>"


def test_html_part_is_escaped() -> None:
    body = html_body("a <script>alert(1)</script> & b\nline two")
    assert "<script>" not in body and "&lt;script&gt;" in body and "&amp;" in body
    assert "line two" in body and "<br>" in body


def test_agent_reply_threads_and_is_not_marked_automatic() -> None:
    message = compose(reply(), sender=SUPPORT, now=NOW)

    assert message["Subject"] == "Re: Charged twice [Case #7]"
    assert message["In-Reply-To"] == "<c2@mail.example.org>"
    assert message["References"] == "<c1@mail.example.org> <c2@mail.example.org>"
    assert message["Message-ID"].endswith("@example.com>")
    assert message[LOOP_HEADER] == SUPPORT
    assert message["Auto-Submitted"] is None
    assert message.get_content_type() == "multipart/alternative"


def test_acknowledgements_are_marked_automatic_so_other_robots_do_not_answer() -> None:
    message = compose(
        reply(automatic=True), sender=SUPPORT, now=NOW, message_id="<fixed@example.com>"
    )

    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Message-ID"] == "<fixed@example.com>"
    # Our own parser, reading what we sent, refuses to auto-answer it: no mail loops.
    parsed = parse_email(message.as_bytes())
    assert parsed.auto_reply_reason is not None and parsed.case_number == 7


async def test_sends_over_real_smtp_with_authentication() -> None:
    with smtp_server(user="relay", password="pw") as (port, inbox):
        sender = SmtpSender(
            SmtpConfig(host="127.0.0.1", port=port, user="relay", password="pw", starttls=False)
        )
        await sender.send(compose(reply(), sender=SUPPORT, now=NOW))

    assert inbox.recipients == [["carol@example.org"]]
    received = inbox.messages[0]
    assert received["Subject"] == "Re: Charged twice [Case #7]"
    plain = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert plain is not None and "we refunded <b>both</b>" in plain.get_content()
    assert html is not None and "&lt;b&gt;both&lt;/b&gt;" in html.get_content()


async def test_wrong_credentials_and_a_server_that_is_down_raise_for_a_retry() -> None:
    with smtp_server(user="relay", password="pw") as (port, inbox):
        wrong = SmtpSender(
            SmtpConfig(host="127.0.0.1", port=port, user="relay", password="nope", starttls=False)
        )
        with pytest.raises(SmtpError):
            await wrong.send(compose(reply(), sender=SUPPORT, now=NOW))
    assert inbox.messages == []

    down = SmtpSender(SmtpConfig(host="127.0.0.1", port=free_port(), starttls=False, timeout=5))
    with pytest.raises(SmtpError, match="refused"):
        await down.send(compose(reply(), sender=SUPPORT, now=NOW))


def test_starttls_and_implicit_tls_are_exclusive() -> None:
    with pytest.raises(ValueError, match="not both"):
        SmtpSender(SmtpConfig(host="h", starttls=True, tls=True))


def test_a_mailbox_is_its_angle_address_whatever_its_name_says() -> None:
    from handlers.email.headers import addresses

    assert addresses("victim@bank.example <attacker@evil.test>") == [
        ("victim@bank.example", "attacker@evil.test")
    ]
    assert addresses('"a, b" <c@d.example>, f@g.example') == [
        ("a, b", "c@d.example"),
        ("", "f@g.example"),
    ]
    assert addresses('"unclosed <x@y.example>') == []


def test_hidden_html_is_not_text() -> None:
    from handlers.email.html_text import html_to_text

    html = (
        '<p>Hi <span style="DISPLAY:NONE">secret <b>words</b></span>there</p>'
        "<div hidden><div>inner</div>still hidden</div>"
        '<p style="visibility: hidden">ghost</p><p style="opacity:0">ghost</p>'
        '<p style="font-size: 0px;">tiny</p><p style="font-size:10px">shown</p>'
    )
    assert html_to_text(html) == "Hi there\n\nshown"

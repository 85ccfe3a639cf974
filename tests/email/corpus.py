"""The corpus of difficult inbound mails (tests/data/email) and what each must become: shared by
the parser's tests and the end-to-end corpus run through a real mailbox."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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

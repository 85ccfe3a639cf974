"""The attachment policy and the file names it passes on, as pure functions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.attachments import AttachmentPolicy, listing, safe_filename, within_message
from services.types import IncomingAttachment


def test_types_match_by_pattern_and_parameters_and_case_do_not_matter() -> None:
    policy = AttachmentPolicy(max_bytes=100, types=("image/*", "application/pdf"))
    assert policy.refusal("image/png", 100) is None
    assert policy.refusal("Application/PDF; name=x.pdf", 10) is None
    assert policy.refusal("application/zip", 10) == "type application/zip not accepted"
    assert policy.refusal("", 10) == "type unknown not accepted"
    assert policy.refusal("image/png", 101) == "larger than 100 bytes"


def test_the_listing_says_what_was_kept_and_why_the_rest_was_not() -> None:
    kept = IncomingAttachment("a.pdf", "application/pdf", 1234, b"x")
    refused = IncomingAttachment("b.zip", "application/zip", 5, None, "type not accepted")
    assert listing([kept, refused]) == [
        "[file: a.pdf (application/pdf, 1,234 bytes)]",
        "[file not kept: b.zip (application/zip, 5 bytes): type not accepted]",
    ]


def test_a_file_name_loses_directories_and_invisible_characters() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\invoice.pdf") == "invoice.pdf"
    assert safe_filename("invoice\u202efdp.exe") == "invoicefdp.exe"  # no right-to-left trick
    assert safe_filename("a\u200bb\r\n.pdf") == "ab.pdf"
    assert safe_filename("   ") == "file"


@given(st.text())
def test_any_name_becomes_one_printable_name(name: str) -> None:
    shown = safe_filename(name)
    assert 1 <= len(shown) <= 255
    assert shown.isprintable() and "/" not in shown and "\\" not in shown


def test_a_message_keeps_at_most_its_count_and_total() -> None:
    files = [IncomingAttachment(f"f{n}", "image/png", 400, b"x" * 400) for n in range(5)]
    kept = within_message(files, max_files=3, max_total=1000)
    assert [f.content is not None for f in kept] == [True, True, False, False, False]
    assert [f.refused for f in kept[2:]] == [
        "over 1,000 bytes in all",
        "over 1,000 bytes in all",
        "over 1,000 bytes in all",
    ]
    assert [f.refused for f in within_message(files, max_files=2, max_total=10_000)][2:] == [
        "more than 2 files"
    ] * 3

"""Text into and out of Slack: `literal` shows any string as written, `plain` reads a Slack
message as its reader saw it (issue 14)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.email.html_text import html_to_text
from handlers.slack.mrkdwn import literal, literal_clip, mentioned_users, plain


@pytest.mark.parametrize(
    ("markup", "seen"),
    [
        ("<!channel> <!here> <!everyone>", "@channel @here @everyone"),
        ("<!here|here> look", "@here look"),
        ("hi <@U123> and <@U999|bob>", "hi @carol and @bob"),
        ("<#C1|general> <#C2>", "#general #C2"),
        ("<!subteam^S1|@support> <!subteam^S2>", "@support @group"),
        ("<!date^1700000000^{date_short}|Nov 14>", "Nov 14"),
        (
            "<http://evil.example|https://bank.example>",
            "https://bank.example (http://evil.example)",
        ),
        ("<https://x.example>", "https://x.example"),
        ("<https://x.example|x.example>", "https://x.example"),
        ("<mailto:a@b.example|a@b.example>", "a@b.example"),
        ("a &lt;b&gt; &amp;amp; c", "a <b> &amp; c"),
        (
            "<https://x.example/?a=1&amp;b=2|see &lt;this&gt;>",
            "see <this> (https://x.example/?a=1&b=2)",
        ),
    ],
)
def test_plain_is_what_the_reader_saw(markup: str, seen: str) -> None:
    assert plain(markup, {"U123": "carol"}) == seen


def test_mentioned_users_are_found_for_their_names() -> None:
    assert mentioned_users("<@U1> <@W2|x> <!here> <#C3>") == {"U1", "W2"}


@given(st.text())
def test_literal_leaves_nothing_slack_would_act_on(text: str) -> None:
    shown = literal(text)
    assert "<" not in shown and ">" not in shown
    assert shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


@given(st.text(alphabet="<>&a!@|:/ ", max_size=60))
def test_a_slack_message_written_back_is_inert(markup: str) -> None:
    assert "<" not in literal(plain(markup))


@given(st.text(alphabet="<>&ab", max_size=200), st.integers(min_value=2, max_value=50))
def test_literal_clip_fits_and_never_cuts_an_entity(text: str, limit: int) -> None:
    clipped = literal_clip(text, limit)
    assert len(clipped) <= limit
    body = clipped.removesuffix("…")
    for at in [i for i, c in enumerate(body) if c == "&"]:
        assert body[at:].startswith(("&amp;", "&lt;", "&gt;"))


def test_an_html_link_shows_its_target_when_its_words_say_otherwise() -> None:
    html = (
        '<p>Pay at <a href="http://evil.example/x">https://bank.example</a> today.</p>'
        '<p><a href="https://a.example">https://a.example</a>, <a href="mailto:x@y.example">'
        'x@y.example</a>, <a href="javascript:alert(1)">js</a></p>'
    )
    assert html_to_text(html) == (
        "Pay at https://bank.example (http://evil.example/x) today.\n\n"
        "https://a.example, x@y.example, js"
    )

"""API_TOKENS parsing and bearer matching: pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import api_tokens, secret_values
from bot.runtime import Runtime
from bot.settings import ConfigError, load_settings
from handlers.api.tokens import ApiToken, TokensError, bearer, match, parse_tokens

GOOD = "a" * 16


def test_pairs_are_read_with_spaces_and_empty_items_ignored() -> None:
    tokens = parse_tokens(f" zapier : {GOOD} ,, crm:{'b' * 20} ,")
    assert [(t.name, t.token) for t in tokens] == [("zapier", GOOD), ("crm", "b" * 20)]


@pytest.mark.parametrize("value", [None, "", "  ", ","])
def test_nothing_configured_means_off(value: str | None) -> None:
    assert parse_tokens(value) == ()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("zapier", "entry 1 is not name:token"),
        (f":{GOOD}", "entry 1 is not name:token"),
        ("zapier:short", "at least 16"),
        (f"zapier:{'a' * 15}", "at least 16"),
        (f"zapier:{GOOD} x", "at least 16"),
        (f"zapier:{GOOD},zapier:{'b' * 16}", "zapier: the name is used twice"),
        (f"zapier:{GOOD},crm:{GOOD}", "crm: the same token is given to two names"),
        (f"{'n' * 29}:{GOOD}", "the name must be"),
        (f"bad name:{GOOD}", "the name must be"),
    ],
)
def test_bad_values_are_refused_in_one_line_without_the_token(value: str, says: str) -> None:
    with pytest.raises(TokensError) as refused:
        parse_tokens(value)
    message = str(refused.value)
    assert says in message
    assert "\n" not in message and GOOD not in message


def test_a_bad_value_stops_start_up_naming_the_variable() -> None:
    settings = load_settings(_env_file=None, api_tokens="zapier:short")
    with pytest.raises(ConfigError, match=r"^API_TOKENS: zapier: the token must be"):
        api_tokens(settings)


def test_the_runtime_refuses_a_bad_value_before_it_starts() -> None:
    settings = load_settings(
        _env_file=None,
        slack_bot_token="xoxb-x",
        slack_app_token="xapp-x",
        support_slack_channel="C1",
        api_tokens=f"zapier:{GOOD},zapier:{GOOD}x",
    )
    with pytest.raises(ConfigError, match=r"^API_TOKENS: zapier: the name is used twice$"):
        Runtime(settings)


def test_the_tokens_are_kept_out_of_logs() -> None:
    settings = load_settings(_env_file=None, api_tokens=f"zapier:{GOOD},crm:{'b' * 16}")
    assert {GOOD, "b" * 16} <= set(secret_values(settings))


def test_repr_never_shows_the_token() -> None:
    assert GOOD not in repr(parse_tokens(f"zapier:{GOOD}"))


@given(st.text(max_size=200))
def test_the_parser_accepts_or_refuses_in_one_line(value: str) -> None:
    try:
        tokens = parse_tokens(value)
    except TokensError as refused:
        assert "\n" not in str(refused)
        return
    assert len({t.name for t in tokens}) == len(tokens)
    assert all(len(t.token) >= 16 for t in tokens)


@given(st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), unique=True, min_size=1, max_size=5))
def test_every_configured_token_matches_its_own_name(names: list[str]) -> None:
    tokens = parse_tokens(",".join(f"{n}:{n * 16}" for n in names))
    for name in names:
        found = match(tokens, name * 16)
        assert found is not None and found.name == name
    assert match(tokens, "0" * 16) is None


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (f"Bearer {GOOD}", GOOD),
        (f"bearer   {GOOD} ", GOOD),
        (f"Basic {GOOD}", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_header(header: str | None, token: str | None) -> None:
    assert bearer(header) == token


def test_no_token_and_odd_text_match_nothing() -> None:
    tokens = (ApiToken("zapier", GOOD),)
    assert match(tokens, None) is None
    assert match(tokens, "\udcff" + GOOD) is None  # not even encodable: no crash
    assert match((), GOOD) is None

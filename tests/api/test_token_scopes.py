"""API_TOKENS scopes: `name[read+write]:token`; today's `name:token` keeps every scope."""

from __future__ import annotations

import pytest

from handlers.api.tokens import ALL_SCOPES, TokensError, parse_tokens

SECRET = "0123456789abcdefXYZ"


def test_todays_form_has_every_scope() -> None:
    (token,) = parse_tokens(f"zapier:{SECRET}")
    assert token.name == "zapier" and token.scopes == ALL_SCOPES
    assert all(token.may(scope) for scope in ("read", "write", "admin"))


@pytest.mark.parametrize(
    ("entry", "scopes", "may", "may_not"),
    [
        (f"bi[read]:{SECRET}", {"read"}, {"read"}, {"write", "admin"}),
        (f"zap[read+write]:{SECRET}", {"read", "write"}, {"read", "write"}, {"admin"}),
        (f"ops[admin]:{SECRET}", {"admin"}, {"read", "write", "admin"}, set()),
        (f" crm [ write ] :{SECRET}", {"write"}, {"write"}, {"read", "admin"}),
    ],
)
def test_scopes_limit_a_token(
    entry: str, scopes: set[str], may: set[str], may_not: set[str]
) -> None:
    (token,) = parse_tokens(entry)
    assert token.scopes == scopes and ":" not in token.name and "[" not in token.name
    assert {s for s in ("read", "write", "admin") if token.may(s)} == may
    assert not any(token.may(s) for s in may_not)
    assert SECRET not in repr(token)


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (f"bi[]:{SECRET}", "got none"),
        (f"bi[read+delete]:{SECRET}", "got delete"),
        (f"bi[READ]:{SECRET}", "got READ"),
        (f"[read]:{SECRET}", "the name must be"),
    ],
)
def test_bad_scopes_are_one_line_without_the_token(entry: str, says: str) -> None:
    with pytest.raises(TokensError, match=says) as refused:
        parse_tokens(entry)
    assert SECRET not in str(refused.value)

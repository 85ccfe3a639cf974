"""API_TOKENS: `name:token` pairs, each optionally limited to scopes (`name[read]:token`,
`name[read+write]:token`), and finding the caller from a bearer token.

Scopes: `read` (GET: cases, queues, numbers; internal notes are left out), `write` (open,
claim, resolve, escalate, close cases; submit tickets), `admin` (everything, internal notes
included). A token without brackets, today's form, has every scope.

No aiohttp here: pure functions, tested on their own.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

MIN_TOKEN_CHARS = 16  # a guessable token is no token
NAME = re.compile(r"[A-Za-z0-9_.-]{1,28}")  # the actor id `api:<name>` fits an assignee (32)
SCOPED_NAME = re.compile(r"(?P<name>[^\[\]]*)\[(?P<scopes>[^\[\]]*)\]")
SCOPES = ("read", "write", "admin")
ALL_SCOPES = frozenset(SCOPES)
TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: what a header can carry


class TokensError(ValueError):
    """API_TOKENS cannot be used as it is; the message is one line without any token in it."""


@dataclass(frozen=True)
class ApiToken:
    name: str
    token: str = ""
    scopes: frozenset[str] = ALL_SCOPES

    def __repr__(self) -> str:  # never print the secret
        return f"ApiToken(name={self.name!r}, scopes={sorted(self.scopes)!r})"

    def may(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def parse_tokens(value: str | None) -> tuple[ApiToken, ...]:
    """`name:token,name:token` → tokens; empty means the API is off. Raises TokensError."""
    if value is None or not value.strip():
        return ()
    found: list[ApiToken] = []
    for position, item in enumerate((part.strip() for part in value.split(",")), start=1):
        if not item:
            continue
        name, colon, token = item.partition(":")
        name, token = name.strip(), token.strip()
        if not colon or not name:
            raise TokensError(f"entry {position} is not name:token")
        scopes = ALL_SCOPES
        if scoped := SCOPED_NAME.fullmatch(name):
            name = scoped["name"].strip()
            scopes = frozenset(s.strip() for s in scoped["scopes"].split("+") if s.strip())
            unknown = sorted(scopes - ALL_SCOPES)
            if unknown or not scopes:
                raise TokensError(
                    f"entry {position}: scopes are {', '.join(SCOPES)} joined by +, "
                    f"e.g. name[read+write]:token (got {', '.join(unknown) or 'none'})"
                )
        if not NAME.fullmatch(name):
            raise TokensError(f"entry {position}: the name must be 1-28 of A-Z a-z 0-9 _ . -")
        if not TOKEN.fullmatch(token) or len(token) < MIN_TOKEN_CHARS:
            raise TokensError(
                f"{name}: the token must be at least {MIN_TOKEN_CHARS} printable characters "
                "without spaces or commas"
            )
        if any(t.name == name for t in found):
            raise TokensError(f"{name}: the name is used twice")
        if any(hmac.compare_digest(t.token, token) for t in found):
            raise TokensError(f"{name}: the same token is given to two names")
        found.append(ApiToken(name, token, scopes))
    return tuple(found)


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def match(tokens: tuple[ApiToken, ...], presented: str | None) -> ApiToken | None:
    """The configured token equal to `presented`, compared in constant time with every one."""
    if presented is None:
        return None
    given = presented.encode("utf-8", "surrogateescape")
    found = None
    for candidate in tokens:  # no early exit: the time does not say which one matched
        if hmac.compare_digest(candidate.token.encode(), given):
            found = candidate
    return found

"""Is an admin's mail really from the admin? Only the receiving server can say (RFC 8601).

The From header is whatever the sender typed. We trust one verdict: the topmost
Authentication-Results header written by our own receiving server (TRUSTED_AUTHSERV_ID),
which must show DMARC pass (so the From domain is aligned) and DKIM or SPF pass. Servers
remove headers that claim their id from incoming mail; one added further down by a forger
is never the topmost of its kind.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_COMMENT = re.compile(r"\([^()]*\)")
_TOKEN = re.compile(r'(?:[^\s"]+|"[^"]*")+')  # a word, quoted strings allowed inside


@dataclass(frozen=True)
class MethodResult:
    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthenticationResults:
    authserv_id: str
    results: tuple[MethodResult, ...]

    def passed(self, method: str) -> list[MethodResult]:
        return [r for r in self.results if r.method == method and r.result == "pass"]


@dataclass(frozen=True)
class SenderCheck:
    verified: bool
    reason: str


def _strip_comments(value: str) -> str:
    previous = None
    while previous != value:  # nested comments: innermost first
        previous, value = value, _COMMENT.sub(" ", value)
    return value


def _split(value: str) -> list[str]:
    """Split on semicolons outside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts]


def parse_authentication_results(value: str) -> AuthenticationResults | None:
    """One header's value; None when it has no authserv-id at all."""
    parts = _split(_strip_comments(value))
    head = parts[0].split()
    if not head:
        return None
    results = []
    for part in parts[1:]:
        tokens = _TOKEN.findall(part)
        if not tokens or "=" not in tokens[0]:
            continue
        method, _, result = tokens[0].partition("=")
        properties = {}
        for token in tokens[1:]:
            name, sep, prop = token.partition("=")
            if sep and "." in name:
                properties[name.lower()] = prop.strip('"').lower()
        results.append(
            MethodResult(method.split("/")[0].lower(), result.strip().lower(), properties)
        )
    return AuthenticationResults(head[0].lower(), tuple(results))


def check_sender(
    headers: Sequence[str], from_address: str, trusted_authserv_id: str | None
) -> SenderCheck:
    """Whether the trusted server authenticated `from_address`, with the reason either way."""
    if not trusted_authserv_id:
        return SenderCheck(False, "TRUSTED_AUTHSERV_ID is not configured")
    trusted = trusted_authserv_id.strip().lower()
    domain = from_address.rpartition("@")[2].lower()
    for value in headers:  # top to bottom: the receiving server's own header comes first
        parsed = parse_authentication_results(value)
        if parsed is None or parsed.authserv_id != trusted:
            continue
        dmarc = parsed.passed("dmarc")
        if not dmarc:
            return SenderCheck(False, f"{trusted}: no dmarc=pass")
        aligned = [r for r in dmarc if r.properties.get("header.from", domain) == domain]
        if not aligned:
            return SenderCheck(False, f"{trusted}: dmarc passed for another domain than {domain}")
        if not (parsed.passed("dkim") or parsed.passed("spf")):
            return SenderCheck(False, f"{trusted}: neither dkim=pass nor spf=pass")
        return SenderCheck(True, f"{trusted}: dmarc=pass with dkim or spf pass")
    return SenderCheck(False, f"no Authentication-Results from {trusted}")

"""Text crossing into and out of Slack: words from outside never act as Slack markup.

Slack reads `<…>` in message text and in mrkdwn as commands: `<!channel>` pings a whole
channel, `<@U…>` a person, `<!subteam^S…>` a user group, and `<http://evil|https://bank>`
shows one link and opens another. So:
- `literal()` writes any string from outside (a customer's name, address, subject or words,
  an API client's ids, an email agent's reply) so that Slack shows it as typed: Slack's
  documented escaping of `&`, `<` and `>`. Every view uses it, and only it.
- `plain()` turns a Slack message as Slack sends it (markup, escaped) into the text its
  reader saw, with every link's target visible; that is what the case service stores, so
  no Slack markup is ever replayed anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_MARKUP = re.compile(r"<([^<>]*)>")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")
_SPECIAL = frozenset({"channel", "here", "everyone"})
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")


def literal(text: str) -> str:
    """`text` shown exactly as written, never as a mention, a link or a command."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def literal_clip(text: str, limit: int) -> str:
    """`literal(text)` in at most `limit` characters, cut with "…", never inside an entity."""
    escaped = literal(text)
    if len(escaped) <= limit:
        return escaped
    return _ENTITY_TAIL.sub("", escaped[: limit - 1]) + "…"


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _link(target: str, label: str) -> str:
    """A link as text a reader can check: the label, and the target when it says otherwise."""
    shown = target.removeprefix("mailto:")
    if not label or label in (target, shown) or label == target.split("://", 1)[-1]:
        return shown
    return f"{label} ({shown})"


def mentioned_users(markup: str) -> set[str]:
    """The user ids a Slack message mentions, so that `plain()` can show their names."""
    return set(_USER_MENTION.findall(markup))


def _readable(inner: str, names: Mapping[str, str]) -> str:
    """What Slack shows for one `<…>` control sequence, as plain text."""
    target, _, label = inner.partition("|")
    target, label = _unescape(target), _unescape(label)
    if target.startswith("@"):  # a user: <@U123> or <@U123|carol>
        return f"@{names.get(target[1:]) or label.lstrip('@') or target[1:]}"
    if target.startswith("#"):  # a channel: <#C123|general>
        return f"#{label.lstrip('#') or target[1:]}"
    if target.startswith("!"):  # <!here>, <!subteam^S123|@team>, <!date^…|fallback>
        command = target[1:].split("^", 1)[0]
        if command in _SPECIAL:
            return f"@{command}"
        if command == "subteam":
            return f"@{label.lstrip('@')}" if label else "@group"
        return label or command
    return _link(target, label)


def plain(markup: str, names: Mapping[str, str] | None = None) -> str:
    """A Slack message's text as its reader saw it (`names` gives mentioned users' display
    names), with nothing left that Slack would act on when it is written back with
    `literal()`."""
    names = names or {}
    out: list[str] = []
    pos = 0
    for match in _MARKUP.finditer(markup):
        out.append(_unescape(markup[pos : match.start()]))
        out.append(_readable(match.group(1), names))
        pos = match.end()
    out.append(_unescape(markup[pos:]))
    return "".join(out)

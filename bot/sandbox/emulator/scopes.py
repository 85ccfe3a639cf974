"""Which OAuth scope each Web API method needs, as api.slack.com documents it for bot tokens.

This is the emulator's own table, written from Slack's method pages, not from what the
product believes it needs: a test that checks the product against it catches a scope the
manifest forgot. Methods whose scope depends on the conversation (history of a public
channel needs channels:history, of a DM im:history) resolve it from the channel.
"""

from __future__ import annotations

from collections.abc import Iterable

# Conversation kind -> scope family suffix.
_KIND_PREFIX = {"public_channel": "channels", "private_channel": "groups", "im": "im"}

# Methods that need one fixed scope (None: no scope needed at all).
FIXED: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.getPermalink": None,
    "reactions.add": "reactions:write",
    "views.publish": None,
    "views.open": None,
    "views.update": None,
    "conversations.open": "im:write",
    "users.info": "users:read",
    "users.list": "users:read",
    "usergroups.list": "usergroups:read",
    "usergroups.users.list": "usergroups:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.info": "files:read",
    "apps.connections.open": "connections:write",  # an app-level token's scope
}

# Methods whose scope is "<family>:<suffix>" for the conversation they touch.
BY_CONVERSATION: dict[str, str] = {
    "conversations.history": "history",
    "conversations.replies": "history",
    "conversations.info": "read",
    "conversations.members": "read",
}


def conversation_scope(method: str, kind: str) -> str | None:
    """The scope `method` needs on a conversation of `kind` (public_channel, im, ...)."""
    suffix = BY_CONVERSATION.get(method)
    if suffix is None:
        return None
    return f"{_KIND_PREFIX[kind]}:{suffix}"


def list_scopes(types: Iterable[str]) -> list[str]:
    """conversations.list needs the read scope of every conversation type asked for."""
    return [f"{_KIND_PREFIX[t]}:read" for t in types if t in _KIND_PREFIX]


def documented(method: str) -> bool:
    """Whether this table knows `method` (a product call it does not know is a test failure)."""
    return method in FIXED or method in BY_CONVERSATION or method == "conversations.list"


def needed_for(method: str, kinds: Iterable[str] = ("public_channel",)) -> set[str]:
    """Every scope `method` may need, for the conversation kinds it is used on."""
    if method == "conversations.list":
        return set(list_scopes(kinds))
    if method in BY_CONVERSATION:
        return {s for k in kinds if (s := conversation_scope(method, k)) is not None}
    scope = FIXED.get(method)
    return {scope} if scope else set()


# The scope an event subscription needs (Slack refuses the subscription without it).
EVENT_SCOPES: dict[str, str] = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
    "app_mention": "app_mentions:read",
}

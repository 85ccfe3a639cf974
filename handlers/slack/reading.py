"""How a Slack message is named and read by the case service, for every listener that
stores one (events, the undo window, a message opened as a case)."""

from __future__ import annotations

from typing import Any

from handlers.slack.deps import SlackDeps
from handlers.slack.mrkdwn import mentioned_users, plain


def changed_message(event: dict[str, Any]) -> tuple[dict[str, Any], bool] | None:
    """The person's message a `message_changed` / `message_deleted` event is about (as it is
    now, or as it was before it was deleted) and whether it was deleted; None for a bot's
    message or one without an author."""
    deleted = event.get("subtype") == "message_deleted"
    message = event.get("previous_message") if deleted else event.get("message")
    if not isinstance(message, dict) or not message.get("user") or message.get("bot_id"):
        return None
    return message, deleted


def external_id(event: dict[str, Any]) -> str:
    """A Slack message is identified by its channel and ts; redeliveries carry the same pair."""
    return f"{event['channel']}:{event['ts']}"


async def readable_text(event: dict[str, Any], deps: SlackDeps) -> str:
    """The message as its reader saw it: the case service stores plain text, never markup
    that would act again (a ping, a disguised link) wherever it is shown next."""
    markup = event.get("text") or ""
    names = {user: await deps.people.name(user) for user in mentioned_users(markup)}
    return plain(markup, names)

"""How a Slack message is named and read by the case service, for every listener that
stores one (events, the undo window, a message opened as a case)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.files import described
from handlers.slack.mrkdwn import literal, mentioned_users, plain
from services.attachments import listing
from services.types import IncomingAttachment


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


async def shared_files(event: dict[str, Any], deps: SlackDeps) -> tuple[IncomingAttachment, ...]:
    """The files the message carries, fetched when kept (files are only listed without a
    fetcher)."""
    if not event.get("files"):
        return ()
    if deps.files is None:
        files = [f for f in event["files"] if isinstance(f, dict)]
        return tuple(described(f, "files are not fetched") for f in files)
    return await deps.files.fetch(event)


def with_listing(text: str, files: Sequence[IncomingAttachment]) -> str:
    """The message's text with its files listed under it (a file alone is a message too)."""
    lines = listing(files)
    return "\n\n".join(part for part in (text, "\n".join(lines)) if part)


async def tell_files_held(
    client: AsyncWebClient, event: dict[str, Any], held: Sequence[IncomingAttachment]
) -> None:
    """The agent learns, in the thread and to them only, which files the customer will not
    get (and why); the reply itself goes on."""
    named = "; ".join(f"{literal(f.filename)}: {literal(f.refused or 'not kept')}" for f in held)
    await client.chat_postEphemeral(
        channel=event["channel"],
        user=event["user"],
        thread_ts=event["thread_ts"],
        text=f":warning: Not sent to the customer: {named}.",
    )

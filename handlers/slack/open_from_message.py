"""Open a case from any message: the *Open a case* message shortcut, or the CASE_REACTION
(🎫 by default) on it. The message's author is the customer, the message is the case's first
message (its permalink on the card), and the conversation goes on in that message's thread
as in an intake channel. The message keeps its Slack id (channel:ts) as the message id, so a
second shortcut or reaction on it opens nothing new: it says which case it is."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.errors import guarded, unsaid
from handlers.slack.reading import external_id, readable_text, shared_files, with_listing
from services.types import Channel, CustomerIdentity, InboundMessage, IngestResult

log = logging.getLogger(__name__)
SHORTCUT = "open_case"  # manifest.yml: features.shortcuts[].callback_id


def register(app: AsyncApp, deps: SlackDeps, *, reaction: str) -> None:
    async def shortcut(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        message = {**body["message"], "channel": body["channel"]["id"]}
        answer = await open_case(deps, client, invoker=body["user"]["id"], message=message)
        await respond(response_type="ephemeral", replace_original=False, text=answer)

    async def reacted(event: dict[str, Any], client: AsyncWebClient) -> None:
        item = event.get("item") or {}
        if event.get("reaction") != reaction or item.get("type") != "message":
            return
        message = await _message(client, str(item["channel"]), str(item["ts"]))
        if message is None:
            log.info("reaction on %s:%s: the message is gone", item["channel"], item["ts"])
            return
        answer = await open_case(deps, client, invoker=str(event["user"]), message=message)
        await client.chat_postEphemeral(channel=message["channel"], user=event["user"], text=answer)

    app.shortcut(SHORTCUT)(guarded(shortcut))
    app.event("reaction_added")(guarded(reacted, unsaid))


async def open_case(
    deps: SlackDeps, client: AsyncWebClient, *, invoker: str, message: dict[str, Any]
) -> str:
    """Open (or find) the case of `message`; what to tell whoever asked."""
    author = message.get("user")
    if not author or message.get("bot_id"):
        return "Only a person's message can become a case."
    files = await shared_files(message, deps)
    inbound = InboundMessage(
        source=Channel.SLACK,
        external_id=external_id(message),
        body=with_listing(await readable_text(message, deps), files),
        customer=CustomerIdentity(name=await deps.people.name(author), slack_user_id=author),
        origin_channel=message["channel"],
        origin_thread_ts=message.get("thread_ts") or message["ts"],
        attachments=files,
    )
    result = await deps.cases.intake.ingest(inbound)
    actor = await deps.people.actor(invoker)
    if not result.duplicate:
        await deps.cases.record(
            result.case.number, "case.opened_from_message", actor.label, message=inbound.external_id
        )
    return said(result, author)


def said(result: IngestResult, author: str) -> str:
    number = result.case.number
    if result.duplicate:
        return f"This message is already case #{number}."
    if result.created:
        return (
            f"Opened case #{number} for <@{author}>: replies in its card's thread reach them here."
        )
    return f"Added to <@{author}>'s open case #{number}."


async def _message(client: AsyncWebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """The reacted-to message (a reaction event names it, never carries it)."""
    found = await client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
    for message in found.get("messages") or []:
        if message.get("ts") == ts:
            return {**message, "channel": channel}
    replies = await client.conversations_replies(channel=channel, ts=ts, limit=1)
    for message in replies.get("messages") or []:
        if message.get("ts") == ts:
            return {**message, "channel": channel}
    return None

"""The undo window on an agent's thread reply: an ephemeral *Sending in 10 s · Undo* for its
author, the Undo button, and the reply's Slack message edited (the customer gets the new
text) or deleted (the customer gets nothing) while it still waits in the outbox."""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.errors import guarded
from handlers.slack.ids import ActionId
from handlers.slack.reading import changed_message, external_id, readable_text
from services.types import Channel, ReplyChange

log = logging.getLogger(__name__)

# What the agent reads after the Undo button, an edit or a deletion, by outcome.
UNDONE = {
    ReplyChange.WITHDRAWN: "Withdrawn: the customer will not get this reply.",
    ReplyChange.TOO_LATE: "Too late to undo: the customer already has this reply.",
    ReplyChange.UNKNOWN: "This reply cannot be undone.",
}
EDITED = {
    ReplyChange.EDITED: "Edited in time: the customer will get the new text.",
    ReplyChange.WITHDRAWN: "Withdrawn: the customer will not get this reply.",
    ReplyChange.TOO_LATE: "Edited here only: the customer already has the first version.",
}
DELETED = {
    ReplyChange.WITHDRAWN: "Deleted in time: the customer will not get this reply.",
    ReplyChange.TOO_LATE: "Deleted here only: the customer already has this reply.",
}


def reply_id(channel: str, ts: str) -> str:
    """How a Slack reply is stored and named by its Undo button (reading.external_id)."""
    return external_id({"channel": channel, "ts": ts})


def undo_blocks(seconds: int, reply: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"Sending to the customer in {seconds} s."},
            "accessory": {
                "type": "button",
                "action_id": ActionId.UNDO_REPLY.value,
                "text": {"type": "plain_text", "text": "Undo"},
                "value": reply,
            },
        }
    ]


async def offer_undo(
    client: AsyncWebClient, event: dict[str, Any], sends_at: datetime, now: datetime
) -> None:
    """Tell the reply's author, in the thread and to them only, that it waits and how to stop
    it. A failure here loses nothing: the reply goes out as written."""
    seconds = max(1, math.ceil((sends_at - now).total_seconds()))
    await client.chat_postEphemeral(
        channel=event["channel"],
        user=event["user"],
        thread_ts=event["thread_ts"],
        text=f"Sending in {seconds} s · Undo",
        blocks=undo_blocks(seconds, reply_id(event["channel"], event["ts"])),
    )


def register(app: AsyncApp, deps: SlackDeps) -> None:
    async def on_undo(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        reply = str((body.get("actions") or [{}])[0].get("value") or "")
        change = await deps.cases.replies.withdraw(
            source=Channel.SLACK,
            external_id=reply,
            actor=await deps.people.actor(body["user"]["id"]),
            how="undo",
        )
        await respond(replace_original=True, text=UNDONE[change])

    app.action(ActionId.UNDO_REPLY.value)(guarded(on_undo))


async def reply_changed(event: dict[str, Any], deps: SlackDeps, client: AsyncWebClient) -> None:
    """A `message_changed` or `message_deleted` event in the support channel: when it is an
    agent's reply under a card, the change reaches its delivery if that still waits."""
    changed = changed_message(event)
    if changed is None:
        return
    message, deleted = changed
    thread_ts, ts = message.get("thread_ts"), str(message.get("ts") or "")
    if not thread_ts or thread_ts == ts:
        return  # not a reply in a thread
    previous = event.get("previous_message") or {}
    if not deleted and message.get("text") == previous.get("text"):
        return  # not an edit of the text (Slack also says so for a new reply count)
    if await deps.cases.reads.case_for_card(event["channel"], thread_ts) is None:
        return
    actor = await deps.people.actor(message["user"])
    reply = reply_id(event["channel"], ts)
    if deleted:
        change = await deps.cases.replies.withdraw(
            source=Channel.SLACK, external_id=reply, actor=actor, how="deleted"
        )
        said = DELETED.get(change)
    else:
        text = await readable_text({**message, "channel": event["channel"]}, deps)
        change = await deps.cases.replies.edit(
            source=Channel.SLACK, external_id=reply, actor=actor, text=text
        )
        said = EDITED.get(change)
    log.info("agent reply %s %s: %s", reply, "deleted" if deleted else "edited", change.value)
    if said is not None:
        await client.chat_postEphemeral(
            channel=event["channel"], user=message["user"], thread_ts=thread_ts, text=said
        )

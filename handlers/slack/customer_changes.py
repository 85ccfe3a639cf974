"""A customer edited or deleted a message of theirs in an intake channel, a DM or a case's
thread: the case service updates its copy and tells the card's thread."""

from __future__ import annotations

import logging
from typing import Any

from handlers.slack.deps import SlackDeps
from handlers.slack.reading import changed_message, external_id, readable_text
from services.types import Channel
from storage.availability import retrying

log = logging.getLogger(__name__)


async def customer_changed(event: dict[str, Any], deps: SlackDeps) -> None:
    """`message_changed` / `message_deleted` outside the support channel. Messages that are
    no case's (chatter, a bot's posts) are no-ops in the service."""
    changed = changed_message(event)
    if changed is None or not changed[0].get("ts") or not event.get("channel"):
        return
    message, deleted = changed
    located = {**message, "channel": event["channel"]}
    stored_as = external_id(located)
    text = None if deleted else await readable_text(located, deps)
    change = await retrying(
        lambda: deps.cases.customer_edits.changed(
            source=Channel.SLACK, external_id=stored_as, slack_user=message["user"], text=text
        ),
        what=f"change to message {stored_as}",
    )
    log.info("customer message %s: %s", stored_as, change.value)

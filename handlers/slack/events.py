"""Message events: customers writing (intake, DMs) and agents replying under case cards."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.card_placement import card_parent
from handlers.slack.customer_changes import customer_changed
from handlers.slack.deps import SlackDeps
from handlers.slack.errors import guarded, in_thread
from handlers.slack.ordering import KeyedLocks
from handlers.slack.reading import (
    external_id,
    readable_text,
    shared_files,
    tell_files_held,
    with_listing,
)
from handlers.slack.reply_undo import offer_undo, reply_changed
from handlers.slack.routing import Route, route_message
from services.errors import CaseNotFound
from services.types import Channel, CustomerIdentity, InboundMessage
from storage.availability import retrying

log = logging.getLogger(__name__)

# Hidden message events about an earlier message: an agent's reply changed in its undo window,
# or a customer's message changed after it was stored.
EDITS = frozenset({"message_changed", "message_deleted"})


def register(app: AsyncApp, deps: SlackDeps) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """Listen to message events; returns how a customer's message read back later (the
    catch-up) is stored: the same path, in the same per-author order."""
    # Envelopes are handled concurrently; one author's messages must still be stored (and
    # mirrored, and relayed) in the order they arrived. The lock is the first await.
    in_order = KeyedLocks()

    async def on_message(
        event: dict[str, Any],
        body: dict[str, Any],
        client: AsyncWebClient,  # asked for so that the error path can answer in the thread
        context: AsyncBoltContext,
    ) -> None:
        if event.get("subtype") in EDITS:
            # After the message itself: an edit seconds after writing may arrive with it.
            author = (event.get("message") or event.get("previous_message") or {}).get("user")
            async with in_order.hold(str(author)):
                if event.get("channel") in deps.channels.card_channels:
                    await reply_changed(event, deps, client)
                else:
                    await customer_changed(event, deps)
            return
        route = route_message(event, deps.channels)
        if route is Route.IGNORE:
            return
        if route is Route.OTHER_THREAD:
            # A thread anywhere else is a conversation only under a message opened as a case.
            if await deps.cases.reads.case_for_origin(event["channel"], event["thread_ts"]) is None:
                return
            route = Route.CUSTOMER
        async with in_order.hold(event["user"]):
            if route is Route.CUSTOMER:
                await _customer_message(event, deps, event_id=body.get("event_id"))
            else:
                await _card_thread_reply(event, deps, client, context.bot_user_id)

    async def tell(arguments: dict[str, Any], text: str) -> None:
        """An agent's reply refused (or failed) is said in the thread, to its author only;
        a customer is never told about our failures (the message waits or is logged)."""
        if route_message(arguments["event"], deps.channels) is Route.CARD_THREAD:
            await in_thread(arguments, text)

    app.event("message")(guarded(on_message, tell))

    async def read_back(event: dict[str, Any]) -> None:
        async with in_order.hold(event["user"]):
            await _customer_message(event, deps)

    return read_back


async def _customer_message(
    event: dict[str, Any], deps: SlackDeps, *, event_id: str | None = None
) -> None:
    user = event["user"]
    if event.get("channel_type") != "im" and await deps.people.is_agent(user):
        return  # agents chatting in an intake channel are not customers
    name = await deps.people.name(user)
    files = await shared_files(event, deps)
    inbound = InboundMessage(
        source=Channel.SLACK,
        external_id=external_id(event),
        body=with_listing(await readable_text(event, deps), files),
        customer=CustomerIdentity(name=name, slack_user_id=user),
        origin_channel=event["channel"],
        origin_thread_ts=event.get("thread_ts") or event["ts"],
        attachments=files,
    )
    # Slack has its ack already: while the database is away the message waits here (in
    # order: the author's lock is held) rather than be lost.
    result = await retrying(
        lambda: deps.cases.intake.ingest(inbound), what=f"message {inbound.external_id}"
    )
    log.info(
        "case #%s %s from %s",
        result.case.number,
        "duplicate ignored" if result.duplicate else "opened" if result.created else "continued",
        user,
        extra={"case": result.case.number, "event_id": event_id, "source": Channel.SLACK},
    )


async def _card_thread_reply(
    event: dict[str, Any], deps: SlackDeps, client: AsyncWebClient, bot_user_id: str | None
) -> None:
    channel, thread_ts = event["channel"], event["thread_ts"]
    case = await deps.cases.reads.case_for_card(channel, thread_ts)
    if case is None:  # not a card, a card that moved, or one whose ts is not recorded yet
        parent = await card_parent(client, channel, thread_ts, bot_user_id=bot_user_id)
        if parent.moved_to:
            text = f"This card moved to {parent.moved_to}."
            await in_thread({"event": event, "client": client}, text)
            return
        if parent.case is None:
            return
        # Our card, answered before we wrote down its ts (a reply within moments of the
        # card, or after a crash between posting and recording it): never dropped.
        try:
            case = await deps.cases.reads.get(parent.case)
        except CaseNotFound:
            return
    actor = await deps.people.actor(event["user"])
    text = await readable_text(event, deps)
    files = await shared_files(event, deps)
    result = await retrying(
        lambda: deps.cases.agents.message(
            case_id=case.number,
            actor=actor,
            text=text,
            source=Channel.SLACK,
            external_id=external_id(event),
            undoable=True,
            attachments=files,
        ),
        what=f"agent reply {external_id(event)}",
    )
    if result.duplicate:
        return
    if not result.internal and (held := [f for f in files if f.content is None]):
        await tell_files_held(client, event, held)
    if result.sends_at is not None:
        await offer_undo(client, event, result.sends_at, deps.cases.context.clock())

"""Where a case's card is drawn: posted once in its team's channel (or the support channel),
updated in place, found again after a crash, and moved when the request type changes team.

Every step is one Slack call that a retry may repeat: a card posted but not recorded is found
by its metadata, a thread copy already made is found by its own, so a crash in the middle of
a move ends, on the next attempt, with one card, one copy and one pointer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import blocks
from handlers.slack.ids import CARD_EVENT, CARD_HISTORY_EVENT, CARD_MOVED_EVENT
from handlers.slack.mrkdwn import literal, mentioned_users, plain
from handlers.slack.pacing import UPDATES, update_pacer
from handlers.slack.people import People
from handlers.slack.routing import Channels
from services.cases import CaseService
from services.types import CaseView, Channel
from storage.models import Case

CARD_SEARCH_PAGES = 10  # up to 2,000 messages back: a crash-retry happens within minutes
CARD_SEARCH_MARGIN_SECONDS = 300  # our clock against Slack's
# A moved card's thread, copied as one message: Slack refuses a post over 40,000 characters,
# so the oldest lines give way (the old thread keeps them all).
HISTORY_MAX = 38_000
HISTORY_PAGES = 20  # up to 20,000 thread messages read


class CardPlacement:
    """Posts, updates and moves case cards."""

    def __init__(
        self,
        client: AsyncWebClient,
        cases: CaseService,
        channels: Channels,
        post: Callable[..., Awaitable[Any]],  # chat.postMessage at the channel's pace
        people: People | None,
    ) -> None:
        self._client = client
        self._cases = cases
        self._channels = channels
        self._post = post
        self._people = people
        self._updates = update_pacer()  # chat.update's pace, for the whole workspace

    async def draw(self, view: CaseView, *, superseded: bool, outbox_id: int | None) -> None:
        """Show the case as it is now, in the channel its request type belongs to."""
        case = view.case
        if case.card_ts and superseded:
            return  # a later update in this batch renders the same, newer state
        if case.master_id is not None and not case.card_ts:
            return  # a storm's child is shown on its master's card, never on a card of its own
        card = blocks.case_card(
            view, catalog=self._cases.catalog, opened_from=self._opened_from(case)
        )
        home = self._channels.cards_for(case.request_type)
        if case.card_ts and case.card_channel:
            if case.card_channel == home:
                await self._update(home, case.card_ts, case, card)
            else:
                await self._move(case, card, home, outbox_id=outbox_id)
            return
        earlier = await self._cases.cards.attempt(case.number)
        found = (
            await self._posted_card(case.number, home, oldest=_margin(earlier)) if earlier else None
        )
        if found is not None:  # posted by an attempt that crashed before recording it
            await self._cases.cards.record(case.number, channel=home, ts=found)
            await self._update(home, found, case, card)
            return
        ts = await self._post_card(home, case, card, outbox_id=outbox_id)
        await self._cases.cards.record(case.number, channel=home, ts=ts)

    async def _move(self, case: Case, card: list[Any], home: str, *, outbox_id: int | None) -> None:
        """The card to its new team's channel: a new card there with the old thread copied
        under it as one message, the old card turned into a one-line pointer."""
        old_channel, old_ts = str(case.card_channel), str(case.card_ts)
        ts = await self._posted_card(case.number, home, oldest=old_ts)  # a move cut short
        if ts is None:
            ts = await self._post_card(home, case, card, outbox_id=outbox_id)
        else:
            await self._update(home, ts, case, card)
        if not await self._history_copied(home, ts):
            await self._post(
                channel=home,
                thread_ts=ts,
                text=await self._history(old_channel, old_ts),
                metadata={"event_type": CARD_HISTORY_EVENT, "event_payload": {"case": case.number}},
                unfurl_links=False,
            )
        link = await self._client.chat_getPermalink(channel=home, message_ts=ts)
        pointer = (
            f":arrow_right: Case #{case.number} moved to <#{home}>"
            f" (request type {literal(str(case.request_type))}):"
            f" <{link['permalink']}|open its card>"
        )
        await self._updates.slot(UPDATES)
        await self._client.chat_update(
            channel=old_channel,
            ts=old_ts,
            text=pointer,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": pointer}}],
            metadata={
                "event_type": CARD_MOVED_EVENT,
                "event_payload": {"case": case.number, "channel": home, "ts": ts},
            },
        )
        await self._cases.cards.record(
            case.number, channel=home, ts=ts, moved_from=(old_channel, old_ts)
        )

    async def _history(self, channel: str, ts: str) -> str:
        """The old card's thread as one message: each post with who wrote it and when, read
        as its reader saw it and written back literally (nothing pings anyone again)."""
        lines: list[str] = []
        oldest = ts
        for _ in range(HISTORY_PAGES):
            page = await self._client.conversations_replies(
                channel=channel, ts=ts, oldest=oldest, limit=1000
            )
            replies = [m for m in page.get("messages") or [] if m.get("ts") != ts]
            for message in replies:
                lines.append(await self._history_line(message))
            if not replies or not page.get("has_more"):
                break
            oldest = str(replies[-1]["ts"])
        heading = f":card_index_dividers: The thread of this case's card in <#{channel}>:"
        if not lines:
            return f"{heading} _(no messages)_"
        body, dropped = "\n\n".join(lines), 0
        while len(body) > HISTORY_MAX and len(lines) > 1:
            lines, dropped = lines[1:], dropped + 1
            body = "\n\n".join(lines)
        if dropped:
            heading += f" _({dropped} older messages are only in the old thread)_"
        return f"{heading}\n\n{body[-HISTORY_MAX:]}"

    async def _history_line(self, message: dict[str, Any]) -> str:
        markup = str(message.get("text") or "")
        names = {}
        if self._people is not None:
            names = {user: await self._people.name(user) for user in mentioned_users(markup)}
        said = literal(plain(markup, names))
        files = [str(f.get("name") or f.get("title") or "file") for f in message.get("files") or []]
        if files:
            said += "\n" + ", ".join(f"(file: {literal(name)})" for name in files)
        when = datetime.fromtimestamp(float(message["ts"]), UTC).strftime("%Y-%m-%d %H:%M UTC")
        if message.get("bot_id"):
            author = str(message.get("username") or "Casebot")
        elif self._people is not None and message.get("user"):
            author = await self._people.name(str(message["user"]))
        else:
            author = str(message.get("user") or "someone")
        return f"_{when}_ · *{literal(author)}*\n{said}"

    async def _history_copied(self, channel: str, ts: str) -> bool:
        page = await self._client.conversations_replies(
            channel=channel, ts=ts, limit=1000, include_all_metadata=True
        )
        return any(
            (m.get("metadata") or {}).get("event_type") == CARD_HISTORY_EVENT
            for m in page.get("messages") or []
        )

    async def _post_card(
        self, channel: str, case: Case, card: list[Any], *, outbox_id: int | None
    ) -> str:
        response = await self._post(
            channel=channel,
            text=blocks.card_text(case),
            blocks=card,
            # Names the case (and the outbox row): a retry after a crash finds this card.
            metadata={
                "event_type": CARD_EVENT,
                "event_payload": {"case": case.number, "outbox_id": outbox_id},
            },
            unfurl_links=False,
        )
        return str(response["ts"])

    async def _update(self, channel: str, ts: str, case: Case, card: list[Any]) -> None:
        await self._updates.slot(UPDATES)
        await self._client.chat_update(
            channel=channel, ts=ts, text=blocks.card_text(case), blocks=card
        )

    async def _posted_card(self, number: int, channel: str, *, oldest: str) -> str | None:
        """The ts of case #number's card if one was posted in `channel` after `oldest`."""
        latest: str | None = None
        for _ in range(CARD_SEARCH_PAGES):
            page = await self._client.conversations_history(
                channel=channel, oldest=oldest, latest=latest, limit=200, include_all_metadata=True
            )
            messages = page.get("messages") or []
            for message in messages:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == CARD_EVENT and payload.get("case") == number:
                    return str(message["ts"])
            if not page.get("has_more") or not messages:
                return None
            latest = str(messages[-1]["ts"])
        return None

    def _opened_from(self, case: Case) -> str | None:
        """The message a case was opened from, when it is not in an intake channel or a DM."""
        channel, ts = case.origin_channel, case.origin_thread_ts
        if case.source != Channel.SLACK or not channel or not ts or channel.startswith("D"):
            return None
        if channel in self._channels.intake:
            return None
        return blocks.message_link(channel, ts)


def _margin(since: datetime) -> str:
    """Slack's `oldest` for a search from `since` on our clock, allowing for skew."""
    return f"{since.timestamp() - CARD_SEARCH_MARGIN_SECONDS:.6f}"


@dataclass(frozen=True)
class CardParent:
    """What the message at the head of a thread in a card channel says it is, when we
    posted it: a case's card, or the pointer left where a card moved from."""

    case: int | None = None  # the card of this case
    moved_to: str | None = None  # a link to where the card went


async def card_parent(
    client: AsyncWebClient, channel: str, thread_ts: str, *, bot_user_id: str | None
) -> CardParent:
    """Read the thread's parent and its metadata; only our own bot's messages count (another
    app could post the same event type)."""
    page = await client.conversations_replies(
        channel=channel, ts=thread_ts, limit=1, include_all_metadata=True
    )
    parent: dict[str, Any] = next(iter(page.get("messages") or []), {})
    meta = parent.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    if parent.get("ts") != thread_ts or not bot_user_id or parent.get("user") != bot_user_id:
        return CardParent()
    if meta.get("event_type") == CARD_MOVED_EVENT:
        where = f"case #{payload.get('case')}'s card in <#{payload.get('channel')}>"
        return CardParent(moved_to=where)
    if meta.get("event_type") == CARD_EVENT and isinstance(payload.get("case"), int):
        return CardParent(case=payload["case"])
    return CardParent()

"""Delivers outbox items to Slack: cards, thread mirrors, customer messages, alerts, log lines.

Cards are rendered at delivery time from the case as it is then, so a burst of changes needs
only the newest update, and a retried update never shows stale data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from handlers.slack import blocks, texts
from handlers.slack.assist import summary_lines
from handlers.slack.card_placement import CardPlacement
from handlers.slack.ids import CUSTOMER_EVENT, TEAM_EVENT
from handlers.slack.mrkdwn import literal, literal_clip
from handlers.slack.pacing import ChannelPacer
from handlers.slack.people import People
from handlers.slack.ratings import ask_blocks
from handlers.slack.routing import Channels
from handlers.slack.uploads import upload_to_thread
from services.assist.extract import Summary
from services.cases import CaseService
from services.outbox import NoSender, OutboxKind
from services.outbox.ledger import REDELIVERY
from services.types import TEAM_VOICE, CaseView, Channel, ReplyVoice
from services.visible import visible
from storage.models import Case, OutboxItem

log = logging.getLogger(__name__)


def closure_line(number: int, payload: dict[str, object]) -> str:
    """`Case #<N> closed at <ISO-8601 UTC> by <agent>` (DESIGN.md, rule 3)."""
    closed_at = blocks.iso_utc(datetime.fromisoformat(str(payload["closed_at"])))
    return f"Case #{number} closed at {closed_at} by {blocks.person(str(payload['closed_by']))}"


SUGGESTED = "suggestion"  # the source of a reply sent from the Suggest-reply modal

# A mirrored message's text in the thread, at most: Slack refuses a post over 40,000
# characters (msg_too_long), and a merged post holds one long message at most (plan.py).
MIRROR_TEXT_MAX = 12_000


def mirror_text(entry: dict[str, Any]) -> str:
    """One mirrored message: who wrote it (customer, agent by another channel, system), then
    the text, written literally so that nothing in it pings anyone or disguises a link, and
    clipped to MIRROR_TEXT_MAX (the whole text stays with the case)."""
    author = literal(visible(str(entry.get("author", ""))))
    via = literal(visible(str(entry.get("via", ""))))
    match entry.get("role", "customer"):
        case "agent" if via == SUGGESTED:
            heading = f"*{author}* (agent) replied with a suggested reply:"
        case "agent":
            heading = f"*{author}* (agent, by {via or 'another channel'}) replied:"
        case "system":
            heading = f":warning: *{author or 'Casebot'}*:"
        case "rating":
            heading = f"*{author or 'Customer'}* (customer) rated the help:"
        case "edited":
            sent = literal(str(entry.get("sent", "")))
            heading = f"*{author or 'Customer'}* (customer) edited their message of {sent}, now:"
        case "deleted":
            sent = literal(str(entry.get("sent", "")))
            return f"*{author or 'Customer'}* (customer) deleted their message of {sent}."
        case _:
            heading = f"*{author or 'Customer'}* (customer) wrote:"
    text = str(entry.get("text", ""))
    shown = literal_clip(text, MIRROR_TEXT_MAX)
    if len(shown) < len(literal(text)):
        shown += f"\n_(clipped: {len(text):,} characters in all, kept with the case)_"
    return f"{heading}\n{shown}"


class NotReady(Exception):
    """A delivery that depends on one not made yet (retried later, never dropped)."""


def tagged(event: str, item: OutboxItem) -> dict[str, Any]:
    """Message metadata naming the outbox row a post delivers (see `_said_before`)."""
    return {"event_type": event, "event_payload": {"outbox_id": item.id}}


class SlackNotifier:
    """Turns semantic outbox kinds into Slack Web API calls."""

    def __init__(
        self,
        client: AsyncWebClient,
        cases: CaseService,
        channels: Channels,
        *,
        pacer: ChannelPacer | None = None,
        on_card: Callable[[Case], None] = lambda _case: None,
        people: People | None = None,
        voice: ReplyVoice = TEAM_VOICE,
    ) -> None:
        self._client = client
        self._people = people
        self._voice = voice
        self._on_card = on_card  # a card was drawn: whoever shows that case elsewhere redraws
        self._cases = cases
        self._channels = channels
        self._pacer = pacer or ChannelPacer()
        self._cards = CardPlacement(client, cases, channels, self._post, people)

    async def _post(self, **message: Any) -> AsyncSlackResponse:
        """chat.postMessage at the channel's pace (Slack: about one per second per channel)."""
        await self._pacer.slot(str(message["channel"]))
        return await self._client.chat_postMessage(**message)

    async def deliver(self, item: OutboxItem, view: CaseView, *, superseded: bool) -> None:
        kind = OutboxKind(item.kind)
        payload = item.payload
        match kind:
            case OutboxKind.CASE_CARD:
                await self._cards.draw(view, superseded=superseded, outbox_id=item.id)
                self._on_card(view.case)
            case OutboxKind.CASE_THREAD:
                # several mirrors merged by the dispatcher come as one "batch"
                await self._post_in_card_thread(view, payload.get("batch") or [payload])
            case OutboxKind.CASE_ATTACHMENT:
                await self._attachment(view, int(payload["attachment_id"]))
            case OutboxKind.CUSTOMER_ACK:
                await self._to_customer(view, item, texts.acknowledgement(view.case.number))
            case OutboxKind.CUSTOMER_REPLY:
                await self._reply(view, item)
            case OutboxKind.CUSTOMER_RESOLVED:
                said = texts.resolution(view.case.number)
                asked = ask_blocks(said, view.case.number) if payload.get("rating") else None
                await self._to_customer(view, item, said, layout=asked)
            case OutboxKind.CUSTOMER_REMINDER:
                await self._to_customer(view, item, texts.reminder(view.case.number))
            case OutboxKind.CUSTOMER_NUDGE:
                await self._to_customer(view, item, texts.nudge(view.case.number))
            case OutboxKind.ESCALATION_ALERT:
                said = await self._alert(
                    view,
                    payload.get("reason", ""),
                    payload.get("summary", ""),
                    payload.get("by", ""),
                )
                await self._to_team(item, self._channels.alerts_for(view.case.request_type), said)
            case OutboxKind.RATING_ALERT:
                said = await self._low_rating(view, int(payload["score"]), payload.get("comment"))
                await self._to_team(item, self._channels.alerts_for(view.case.request_type), said)
            case OutboxKind.CLOSURE_LOG:
                said = closure_line(view.case.number, payload)
                await self._to_team(item, self._channels.log, said)

    async def _thread_host(self, case: Case) -> tuple[str, str]:
        """(channel, ts) of the card whose thread shows `case`: its own, or (a storm's child
        that never had a card of its own) its master incident's."""
        if case.card_channel and case.card_ts:
            return case.card_channel, case.card_ts
        if case.master_id is not None:
            master = await self._cases.reads.get(case.master_id)
            if master.card_channel and master.card_ts:
                return master.card_channel, master.card_ts
        raise NotReady(f"case #{case.number} has no card yet")

    async def _post_in_card_thread(self, view: CaseView, entries: list[dict[str, Any]]) -> None:
        """Mirror messages under the card, in one post; each entry's `role` says who wrote it."""
        channel, thread_ts = await self._thread_host(view.case)
        await self._post(
            channel=channel,
            thread_ts=thread_ts,
            text="\n\n".join(mirror_text(entry) for entry in entries),
            unfurl_links=False,
        )

    async def _attachment(self, view: CaseView, attachment_id: int) -> None:
        """A customer's file, shared in the card's thread so agents can open it in Slack."""
        channel, thread_ts = await self._thread_host(view.case)
        stored = await self._cases.reads.attachment(attachment_id)
        if stored is None or stored.content is None:
            return  # too large to keep: the message already lists it
        await upload_to_thread(
            self._client,
            channel=channel,
            thread_ts=thread_ts,
            filename=stored.filename,
            content=stored.content,
            title=f"{stored.filename} (from the customer)",
        )

    async def _reply(self, view: CaseView, item: OutboxItem) -> None:
        """An agent's reply under the agent's name and avatar (chat:write.customize), or
        under the team's name only."""
        payload = item.payload
        author, author_id = str(payload.get("author", "")), payload.get("author_id")
        text = literal(str(payload.get("text", "")))
        files = [int(i) for i in payload.get("attachment_ids") or []]
        if not self._voice.show_agent:
            team = {"username": self._voice.team}
            await self._to_customer(view, item, text, identity=team, files=files)
            return
        icon = None
        if self._people is not None and author_id and blocks.is_slack_user(str(author_id)):
            icon = (await self._people.profile(str(author_id))).avatar
        identity: dict[str, str] = {"username": self._voice.sender(author)}
        if icon:
            identity["icon_url"] = icon
        await self._to_customer(view, item, text, identity=identity, files=files)

    async def _to_customer(
        self,
        view: CaseView,
        item: OutboxItem,
        text: str,
        *,
        layout: list[dict[str, Any]] | None = None,
        identity: dict[str, str] | None = None,
        files: Sequence[int] = (),
    ) -> None:
        """Post on the customer's own channel, tagged with the outbox row: a row whose last
        holder died holding it is looked for first, so a crash never says it twice. `files`
        (stored attachments) are shared just before the text: the tagged post is last, so a
        crash between them shares a file twice rather than never."""
        case = view.case
        if case.source != Channel.SLACK or not case.origin_channel:
            raise NoSender(f"case #{case.number}: no outbound adapter for source {case.source!r}")
        is_dm = case.origin_channel.startswith("D")
        thread_ts = None if is_dm else case.origin_thread_ts
        if await self._said_before(item, CUSTOMER_EVENT, case.origin_channel, thread_ts):
            return
        names = [await self._share(case.origin_channel, thread_ts, i) for i in files]
        if not text and names:  # a reply that is only files: the post names them
            text = "Attached: " + ", ".join(literal(name) for name in names if name)
        await self._post(
            channel=case.origin_channel,
            thread_ts=thread_ts,
            text=text,
            metadata=tagged(CUSTOMER_EVENT, item),
            **({"blocks": layout} if layout else {}),
            **(identity or {}),
        )

    async def _share(self, channel: str, thread_ts: str | None, attachment_id: int) -> str:
        """A stored file shared with the customer; its name ("" when it is gone)."""
        stored = await self._cases.reads.attachment(attachment_id)
        if stored is None or stored.content is None:
            return ""
        await upload_to_thread(
            self._client,
            channel=channel,
            thread_ts=thread_ts,
            filename=stored.filename,
            content=stored.content,
        )
        return stored.filename

    async def _said_before(
        self, item: OutboxItem, event: str, channel: str, thread_ts: str | None
    ) -> bool:
        """Whether `item` is a redelivery (its last holder died holding it) whose post, tagged
        `event` with its row, is in the thread already (or among the channel's newest posts).
        A first delivery looks nowhere."""
        if not item.payload.get(REDELIVERY):
            return False
        if thread_ts is not None:
            page = await self._client.conversations_replies(
                channel=channel, ts=thread_ts, limit=200, include_all_metadata=True
            )
        else:
            page = await self._client.conversations_history(
                channel=channel, limit=200, include_all_metadata=True
            )
        for message in page.get("messages") or []:
            meta = message.get("metadata") or {}
            if meta.get("event_type") == event and (
                (meta.get("event_payload") or {}).get("outbox_id") == item.id
            ):
                return True
        return False

    async def _card_link(self, case: Case) -> str:
        if not (case.card_channel and case.card_ts):
            return ""
        permalink = await self._client.chat_getPermalink(
            channel=case.card_channel, message_ts=case.card_ts
        )
        return f" · <{permalink['permalink']}|open card>"

    async def _low_rating(self, view: CaseView, score: int, comment: str | None) -> str:
        """A customer unhappy with how their case went: the leads hear of it."""
        said = f":thumbsdown: *Case #{view.case.number} rated {score}/5* by the customer"
        said += await self._card_link(view.case)
        if comment:
            said += "\n" + "\n".join(
                f"> {line}" for line in literal_clip(comment, 500).splitlines()
            )
        return said

    async def _to_team(self, item: OutboxItem, channel: str, said: str) -> None:
        """An alert or a log line, tagged with its outbox row: a row whose last holder died
        holding it is looked for first, so a crash never posts it twice."""
        if await self._said_before(item, TEAM_EVENT, channel, None):
            return
        await self._post(
            channel=channel, text=said, unfurl_links=False, metadata=tagged(TEAM_EVENT, item)
        )

    async def _alert(self, view: CaseView, reason: str, summary: str, by: str) -> str:
        case = view.case
        label = blocks.REASON_LABEL.get(reason, reason)
        if reason == "manual" and by:
            label = f"escalated by {blocks.person(by)}"  # an API token is no Slack user
        link = await self._card_link(case)
        said = f":rotating_light: *Case #{case.number} escalated* ({reason}): {label}{link}\n"
        said += "\n".join(f"> {line}" for line in literal_clip(summary, 300).splitlines())
        if brief := await self._brief(case):
            said += f"\n*In short*\n{summary_lines(brief)}"
        return said

    async def _brief(self, case: Case) -> Summary | None:
        """The case's summary for its alert; a courtesy that never holds the alert up."""
        try:
            return await self._cases.summaries.summary(case.number)
        except Exception:  # whatever failed, the alert goes without it
            log.exception("case #%s: no summary for the alert", case.number)
            return None

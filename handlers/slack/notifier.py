"""Delivers outbox items to Slack: cards, thread mirrors, customer messages, alerts, log lines.

Cards are rendered at delivery time from the case as it is then, so a burst of changes needs
only the newest update, and a retried update never shows stale data.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import blocks
from handlers.slack.routing import Channels
from services.cases import CaseService
from services.outbox import OutboxKind
from services.types import CaseView
from storage.models import OutboxItem


def closure_line(number: int, payload: dict[str, object]) -> str:
    """`Case #<N> closed at <ISO-8601 UTC> by <agent>` (DESIGN.md, rule 3)."""
    closed_at = blocks.iso_utc(datetime.fromisoformat(str(payload["closed_at"])))
    return f"Case #{number} closed at {closed_at} by <@{payload['closed_by']}>"


class NotReady(Exception):
    """A delivery that depends on one not made yet (retried later, never dropped)."""


class UnsupportedChannel(Exception):
    """The case came from a channel with no outbound adapter configured."""


class SlackNotifier:
    """Turns semantic outbox kinds into Slack Web API calls."""

    def __init__(self, client: AsyncWebClient, cases: CaseService, channels: Channels) -> None:
        self._client = client
        self._cases = cases
        self._channels = channels

    async def deliver(self, item: OutboxItem, view: CaseView, *, superseded: bool) -> None:
        kind = OutboxKind(item.kind)
        payload = item.payload
        match kind:
            case OutboxKind.CASE_CARD:
                await self._card(view, superseded=superseded)
            case OutboxKind.CASE_THREAD:
                await self._post_in_card_thread(
                    view, payload.get("text", ""), payload.get("author", "")
                )
            case OutboxKind.CUSTOMER_ACK:
                await self._to_customer(
                    view,
                    f"Thanks for reaching out! We've opened *case #{view.case.number}* for you. "
                    "An agent will reply here; just write in this thread to add details.",
                )
            case OutboxKind.CUSTOMER_REPLY:
                await self._to_customer(
                    view, f"*{payload.get('author', 'Support')}:* {payload.get('text', '')}"
                )
            case OutboxKind.CUSTOMER_RESOLVED:
                await self._to_customer(
                    view,
                    f"Case #{view.case.number} has been resolved. "
                    "If something is still wrong, just reply here and we'll pick it up again.",
                )
            case OutboxKind.ESCALATION_ALERT:
                await self._alert(
                    view,
                    payload.get("reason", ""),
                    payload.get("summary", ""),
                    payload.get("by", ""),
                )
            case OutboxKind.CLOSURE_LOG:
                await self._client.chat_postMessage(
                    channel=self._channels.log, text=closure_line(view.case.number, payload)
                )

    async def _card(self, view: CaseView, *, superseded: bool) -> None:
        case = view.case
        if case.card_ts and superseded:
            return  # a later update in this batch renders the same, newer state
        card = blocks.case_card(view)
        if case.card_ts and case.card_channel:
            await self._client.chat_update(
                channel=case.card_channel, ts=case.card_ts, text=blocks.card_text(case), blocks=card
            )
            return
        response = await self._client.chat_postMessage(
            channel=self._channels.support,
            text=blocks.card_text(case),
            blocks=card,
            unfurl_links=False,
        )
        await self._cases.record_card(
            case.number, channel=str(response["channel"]), ts=str(response["ts"])
        )

    async def _post_in_card_thread(self, view: CaseView, text: str, author: str) -> None:
        case = view.case
        if not (case.card_channel and case.card_ts):
            raise NotReady(f"case #{case.number} has no card yet")
        await self._client.chat_postMessage(
            channel=case.card_channel,
            thread_ts=case.card_ts,
            text=f"*{author or 'Customer'}* (customer) wrote:\n{blocks.defuse(text)}",
            unfurl_links=False,
        )

    async def _to_customer(self, view: CaseView, text: str) -> None:
        case = view.case
        if case.source != "slack" or not case.origin_channel:
            raise UnsupportedChannel(
                f"case #{case.number}: no outbound adapter for source {case.source!r}"
            )
        is_dm = case.origin_channel.startswith("D")
        await self._client.chat_postMessage(
            channel=case.origin_channel,
            thread_ts=None if is_dm else case.origin_thread_ts,
            text=text,
        )

    async def _alert(self, view: CaseView, reason: str, summary: str, by: str) -> None:
        case = view.case
        label = blocks.REASON_LABEL.get(reason, reason)
        if reason == "manual" and by:
            label = f"escalated by <@{by}>"
        link = ""
        if case.card_channel and case.card_ts:
            permalink = await self._client.chat_getPermalink(
                channel=case.card_channel, message_ts=case.card_ts
            )
            link = f" · <{permalink['permalink']}|open card>"
        await self._client.chat_postMessage(
            channel=self._channels.alerts,
            text=(
                f":rotating_light: *Case #{case.number} escalated* ({reason}): {label}{link}\n"
                f"> {blocks.defuse(summary)[:300]}"
            ),
            unfurl_links=False,
        )

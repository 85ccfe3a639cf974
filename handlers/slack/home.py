"""App Home: an agent's desk at a glance; anyone else learns how to reach support.

Published when the tab is opened (`app_home_opened`) and again when one of the agent's cases
changes (its card is delivered). App Home is a view of the database, so a refresh that
fails is only logged: the next open or change draws it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import blocks
from handlers.slack.errors import guarded, unsaid
from handlers.slack.mrkdwn import literal_clip
from handlers.slack.people import People
from handlers.slack.routing import Channels
from services.home import AgentHome, Dashboard, Today
from services.types import API_ACTOR_PREFIX
from storage.models import Case

log = logging.getLogger(__name__)

COALESCE_SECONDS = 1.0  # changes to one agent's cases within this are drawn once


def register(app: AsyncApp, publisher: HomePublisher) -> None:
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            await publisher.publish(str(event["user"]))

    app.event("app_home_opened")(guarded(home_opened, unsaid))


class HomePublisher:
    """Draws and publishes App Home tabs; `changed(agent)` refreshes one soon, once."""

    def __init__(
        self,
        client: AsyncWebClient,
        dashboard: Dashboard,
        people: People,
        channels: Channels,
        *,
        support_email: str | None = None,
        coalesce_seconds: float = COALESCE_SECONDS,
    ) -> None:
        self._client = client
        self._dashboard = dashboard
        self._people = people
        self._channels = channels
        self._support_email = support_email
        self._coalesce = coalesce_seconds
        self._pending: dict[str, asyncio.Task[None]] = {}

    async def publish(self, user: str) -> None:
        """Draw `user`'s tab now."""
        if await self._people.is_agent(user):
            view = agent_view(await self._dashboard.agent_home(user))
        else:
            view = visitor_view(self._channels, self._support_email)
        try:
            await self._client.views_publish(user_id=user, view=view)
        except SlackApiError as error:
            log.warning("App Home for %s not published: %s", user, error.response.get("error"))

    def changed(self, case: Case) -> None:
        """One of `case.assignee`'s cases changed: redraw their tab shortly (a burst of
        changes is drawn once)."""
        agent = case.assignee
        # An API token can hold a case too (`api:<name>`): it has no App Home to draw.
        if not agent or agent.startswith(API_ACTOR_PREFIX) or agent in self._pending:
            return
        task = asyncio.get_running_loop().create_task(self._later(agent), name=f"home-{agent}")
        self._pending[agent] = task

    async def _later(self, agent: str) -> None:
        try:
            await asyncio.sleep(self._coalesce)
        finally:
            self._pending.pop(agent, None)
        try:
            await self.publish(agent)
        except Exception:  # a view refresh must never take anything else down
            log.exception("App Home refresh for %s failed", agent)

    async def close(self) -> None:
        """Cancel refreshes not yet drawn (at shutdown)."""
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def agent_view(home: AgentHome) -> View:
    """My open cases, the top of the queue, SLAs due soon, and today's numbers."""
    today = home.today
    response = duration(today.median_first_response) if today.median_first_response else "—"
    numbers = [
        MarkdownTextObject(text=f"*Opened today*\n{today.opened}"),
        MarkdownTextObject(text=f"*Resolved today*\n{today.resolved}"),
        MarkdownTextObject(text=f"*Median first response*\n{response}"),
        MarkdownTextObject(text=f"*Customer rating this week*\n{_rating(today)}"),
        MarkdownTextObject(text=f"*Suggested replies this week*\n{_suggested(today)}"),
    ]
    home_blocks: list[Block] = [
        HeaderBlock(text="Your support desk"),
        SectionBlock(fields=numbers),
        DividerBlock(),
        *_cases("My open cases", home.mine, "Nothing assigned to you. `/queue next` takes one."),
        *_cases("Top of the queue (unassigned)", home.queue, "No unassigned case is waiting."),
        *_cases(
            "SLA due soon",
            home.due_soon,
            "No first answer is due in the next hours.",
            line=lambda c: _due_line(c, home.now),
        ),
        ContextBlock(
            elements=[MarkdownTextObject(text=f"Updated {blocks.slack_date(home.now)} · UTC day")]
        ),
    ]
    return View(type="home", blocks=home_blocks)


def _suggested(today: Today) -> str:
    """Sent as drafted (at most a fifth changed) / sent edited / discarded, and the share sent."""
    drafted, edited, discarded = today.suggestions
    total = drafted + edited + discarded
    if not total:
        return "— (none yet)"
    return (
        f"{(drafted + edited) / total:.0%} sent: {drafted} as drafted, {edited} edited,"
        f" {discarded} discarded"
    )


def _rating(today: Today) -> str:
    if today.rating_average is None:
        return "— (no ratings yet)"
    return f"{today.rating_average:.1f} / 5 ({today.ratings} rated)"


def visitor_view(channels: Channels, support_email: str | None) -> View:
    """How someone who is not an agent reaches support."""
    ways = [f"• write in <#{channel}>" for channel in sorted(channels.intake)]
    ways.append("• or send me a direct message (the *Messages* tab)")
    if support_email:
        ways.append(f"• or email {support_email}")
    text = (
        "*Need help?*\n" + "\n".join(ways) + "\n\nWe open a case for you and answer in the "
        "same place. Write again there to add details."
    )
    return View(
        type="home",
        blocks=[
            HeaderBlock(text="Customer support"),
            SectionBlock(text=MarkdownTextObject(text=text)),
        ],
    )


def _cases(
    title: str,
    cases: Sequence[Case],
    empty: str,
    *,
    line: Callable[[Case], str] = blocks.queue_line,
) -> list[Block]:
    body = "\n".join(line(c) for c in cases) if cases else f"_{empty}_"
    text = blocks.clip(f"*{title}* ({len(cases)})\n{body}", 3000)
    return [SectionBlock(text=MarkdownTextObject(text=text))]


def _due_line(case: Case, now: datetime) -> str:
    assert case.sla_due_at is not None
    left = case.sla_due_at - now
    when = (
        f"*breached {duration(-left)} ago*" if left < timedelta(0) else f"due in {duration(left)}"
    )
    return f"*#{case.number}* {literal_clip(case.subject, 80)} · {when}"


def duration(span: timedelta) -> str:
    """'3 h 05 min', '12 min', '40 s'."""
    seconds = int(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"

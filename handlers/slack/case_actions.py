"""`/case new`, `/case stats`, `/case assign N @agent` and `/case close N [reason]`: what an
agent does to cases from Slack's command line, each audited under the agent's name.

The caller (commands.case_answer) has checked that the user is an agent; the services check
it again and raise DomainError with words for anything refused (commands are `guarded`).
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta
from typing import Any

from handlers.slack.agent_commands import user_of
from handlers.slack.deps import SlackDeps
from services.errors import DomainError
from services.types import Channel, CustomerIdentity, InboundMessage

NEW_HELP = (
    "Say what the case is about: `/case new @customer what they need`"
    " (without @customer, the case is your own)."
)
_ASSIGN = re.compile(r"^#?(?P<number>\d{1,9})\s+(?P<user>\S+)$")
_CLOSE = re.compile(r"^#?(?P<number>\d{1,9})(?:\s+(?P<reason>.+))?$", re.DOTALL)
_MENTION = re.compile(r"^<@[UW][A-Z0-9]{2,31}(?:\|[^>]*)?>")
MAX_REASON = 300


async def new_case(
    deps: SlackDeps, client: Any, user_id: str, rest: str, *, request_id: str | None
) -> str:
    """Open a case for a customer (a mention) or for the agent; it continues in the
    customer's DM with the bot, exactly as if they had written there."""
    words = rest.strip()
    customer = user_id
    if mention := _MENTION.match(words):
        customer = user_of(mention.group(0))
        words = words[mention.end() :].strip()
    text = html.unescape(words)  # /case is escaped: &, < and > arrive as entities
    if not text:
        return NEW_HELP
    if client is None:
        raise DomainError("/case new needs Slack's client here; try again.")
    opened = await client.conversations_open(users=customer)
    inbound = InboundMessage(
        source=Channel.SLACK,
        external_id=f"command:{request_id or uuid.uuid4().hex}",
        body=text,
        customer=CustomerIdentity(name=await deps.people.name(customer), slack_user_id=customer),
        origin_channel=str(opened["channel"]["id"]),
    )
    result = await deps.cases.intake.ingest(inbound)
    number = result.case.number
    actor = await deps.people.actor(user_id)
    await deps.cases.record(number, "command.new", actor.label, customer=customer)
    if result.created:
        return f"Opened case #{number} for <@{customer}>; replies in its card's thread reach them."
    return f"<@{customer}> already has case #{number} open: your text was added to it."


async def assign(deps: SlackDeps, user_id: str, rest: str) -> str:
    """Give a case to an agent (not necessarily oneself)."""
    found = _ASSIGN.match(" ".join(rest.split()))
    if not found:
        return "Say which case and to whom: `/case assign 42 @agent`."
    assignee = user_of(found["user"])
    if not await deps.people.is_agent(assignee):
        return f"<@{assignee}> is not a support agent: cases go to agents only."
    actor = await deps.people.actor(user_id)
    case = await deps.cases.agents.assign(
        case_id=int(found["number"]), actor=actor, assignee=assignee
    )
    return f"Case #{case.number} is now <@{assignee}>'s."


async def close(deps: SlackDeps, user_id: str, rest: str) -> str:
    """Close a case for good, with an optional reason (kept in its audit trail)."""
    found = _CLOSE.match(rest.strip())
    if not found:
        return "Say which case: `/case close 42 [reason]`."
    reason = html.unescape(found["reason"] or "").strip()[:MAX_REASON] or None
    actor = await deps.people.actor(user_id)
    case = await deps.cases.agents.close(case_id=int(found["number"]), actor=actor, reason=reason)
    return f"Case #{case.number} is closed" + (f" ({reason})." if reason else ".")


async def stats(deps: SlackDeps) -> str:
    """The desk's numbers: cases by status and category, escalations, first response."""
    if deps.desk is None:
        return "Numbers are not available in this process."
    desk = await deps.desk.stats()
    by_status = " · ".join(
        f"{status} {count}" for status, count in sorted(desk.by_status.items()) if count
    )
    top = sorted(desk.by_category.items(), key=lambda item: (-item[1], item[0]))[:8]
    by_category = ", ".join(f"{name} {count}" for name, count in top)
    lines = [
        f"*Cases*: {sum(desk.by_status.values())} ({by_status or 'none yet'})",
        f"*Escalated and still active*: {desk.escalated}",
        f"*Median first response* (30 days): {_duration(desk.median_first_response)}",
    ]
    if by_category:
        lines.append(f"*By category*: {by_category}")
    return "\n".join(lines)


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "no case answered yet"
    minutes = round(value.total_seconds() / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"

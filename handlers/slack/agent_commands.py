"""`/case agent …`: who gets new cases routed to them, with which skills and how many."""

from __future__ import annotations

import re

from handlers.slack.deps import SlackDeps
from services.errors import DomainError

AGENT_HELP = (
    "*/case agent* — routing of new cases\n"
    "• `/case agent list` — agents, their skills, capacity and open cases\n"
    "• `/case agent add @someone skills payments,cards [capacity 5]` — add or change\n"
    "• `/case agent remove @someone` — route nothing more to them\n"
    "A new case goes to the least-loaded agent who has every skill its request type needs."
)
_USER = re.compile(r"^<@([UW][A-Z0-9]{2,31})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,31})$")
_ADD = re.compile(
    r"^(?:add|set)\s+(?P<user>\S+)\s+skills\s+(?P<skills>[\w ,\-]+?)"
    r"(?:\s+capacity\s+(?P<capacity>\d{1,4}))?$",
    re.IGNORECASE,
)
_REMOVE = re.compile(r"^remove\s+(?P<user>\S+)$", re.IGNORECASE)


def user_of(token: str) -> str:
    """The member id in a mention (`<@U…|name>`, as /case escapes it) or a bare `U…` id."""
    found = _USER.match(token.strip())
    if not found:
        raise DomainError(
            f"I need a person as a mention (@name) or a member id (U…), not `{token[:40]}`."
        )
    return found.group(1) or found.group(2)


async def agent_answer(deps: SlackDeps, words: str) -> str:
    """The reply to `/case agent <words>` (the caller checked that the user is an agent)."""
    if deps.agents is None:
        return "Routing is off: triage is not configured."
    words = " ".join(words.split())
    if words.lower() in ("", "help", "?"):
        return AGENT_HELP
    if words.lower() == "list":
        rows = await deps.agents.listing()
        if not rows:
            return "No agents are set up for routing: new cases wait in `/queue`."
        return "\n".join(
            f"• <@{agent.user_id}>: {', '.join(agent.skills) or 'no skills'}"
            f" · {load}/{agent.capacity} open case(s)"
            for agent, load in rows
        )
    if added := _ADD.match(words):
        user = user_of(added["user"])
        skills = [s for s in re.split(r"[,\s]+", added["skills"]) if s]
        capacity = int(added["capacity"]) if added["capacity"] else None
        agent = await deps.agents.save(user, skills=skills, capacity=capacity)
        return (
            f"<@{user}> now gets new cases needing {', '.join(agent.skills) or 'no skills'}"
            f" (at most {agent.capacity} open at once)."
        )
    if removed := _REMOVE.match(words):
        user = user_of(removed["user"])
        if await deps.agents.remove(user):
            return f"No more new cases go to <@{user}>; their open cases stay theirs."
        return f"<@{user}> was not set up for routing."
    return f"I don't understand `agent {words[:80]}`.\n{AGENT_HELP}"

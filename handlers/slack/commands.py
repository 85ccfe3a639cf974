"""`/case` and `/queue`: look up, search and claim cases without leaving Slack."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from handlers.slack import blocks, case_actions
from handlers.slack.agent_commands import agent_answer
from handlers.slack.assist import summary_answer
from handlers.slack.deps import SlackDeps
from handlers.slack.errors import guarded
from handlers.slack.ids import Command
from handlers.slack.report_commands import report_answer

CASE_HELP = (
    "*/case* — look up and work on support cases (agents)\n"
    "• `/case 42` or `/case #42` — show case #42\n"
    "• `/case find <words>` — search subjects and messages\n"
    "• `/case new [@customer] <text>` — open a case for a customer (or yourself)\n"
    "• `/case assign 42 @agent` — give case #42 to an agent\n"
    "• `/case close 42 [reason]` — close case #42 for good\n"
    "• `/case summary 42` — case #42 in a few lines (also the card's ⋯ → Summarize)\n"
    "• `/case stats` — the desk's numbers\n"
    "• `/case quarantine` — mail that could not be read, kept with the reason\n"
    "• `/case agent` — who gets new cases routed to them (skills, capacity)\n"
    "• `/case report` — the XLSX report: mailed to the report recipients and sent to you\n"
    "• `/case help` — this help\n"
    "*/queue* — open cases by priority (escalated, urgency, SLA due, age)\n"
    "• `/queue next` — claim the top unassigned case"
)
_CASE_NUMBER = re.compile(r"#?(\d{1,9})")
MAX_QUERY = 200


log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    async def case_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: Any
    ) -> None:
        await ack()
        text, request_id = command.get("text") or "", command.get("trigger_id")
        answer = await case_answer(
            deps, command["user_id"], text, request_id=request_id, client=client
        )
        await respond(**answer)

    async def queue_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await respond(**await queue_answer(deps, command["user_id"], command.get("text") or ""))

    app.command(Command.CASE.value)(guarded(case_command))
    app.command(Command.QUEUE.value)(guarded(queue_command))


def ephemeral(text: str, blocks_: list[Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    if blocks_:
        answer["blocks"] = [b.to_dict() for b in blocks_]
    return answer


async def case_answer(
    deps: SlackDeps,
    user_id: str,
    text: str,
    *,
    request_id: str | None = None,
    client: Any = None,
) -> dict[str, Any]:
    """The reply to `/case <text>`."""
    words = text.strip()
    if words.lower() in ("", "help", "?"):
        return ephemeral(CASE_HELP)
    if not await deps.people.is_agent(user_id):
        await _refused(deps, user_id, Command.CASE, words)
        return ephemeral(
            "Only support agents can use /case. "
            "To ask for help, write in the support intake channel or send me a direct message."
        )
    if number := _CASE_NUMBER.fullmatch(words):
        view = await deps.cases.reads.view(int(number.group(1)))
        return ephemeral(
            blocks.card_text(view.case), blocks.case_card(view, catalog=deps.cases.catalog)
        )
    verb, _, rest = words.partition(" ")
    if verb.lower() in ("agent", "agents"):
        return ephemeral(await agent_answer(deps, rest))
    if verb.lower() == "report" and not rest.strip():
        return ephemeral(await report_answer(deps, user_id, request_id=request_id))
    if verb.lower() == "quarantine" and not rest.strip():
        return await quarantine_answer(deps)
    if verb.lower() == "new":
        return ephemeral(
            await case_actions.new_case(deps, client, user_id, rest, request_id=request_id)
        )
    if verb.lower() == "assign":
        return ephemeral(await case_actions.assign(deps, user_id, rest))
    if verb.lower() == "close":
        return ephemeral(await case_actions.close(deps, user_id, rest))
    if verb.lower() == "summary":
        if not (number := _CASE_NUMBER.fullmatch(rest.strip())):
            return ephemeral("Say which case: `/case summary 42`.")
        return ephemeral(await summary_answer(deps, int(number.group(1))))
    if verb.lower() == "stats" and not rest.strip():
        return ephemeral(await case_actions.stats(deps))
    if verb.lower() == "find":
        query = html.unescape(rest.strip())  # /case is escaped: &, < and > arrive as entities
        if not query:
            return ephemeral("Tell me what to look for: `/case find refund`.")
        if len(query) > MAX_QUERY:
            return ephemeral(f"That search is too long; keep it under {MAX_QUERY} characters.")
        found = await deps.cases.reads.find(query)
        return ephemeral(
            f"{len(found)} case(s) match",
            blocks.listing(f"Cases matching “{query}”", found, f"No case mentions “{query}”."),
        )
    return ephemeral(f"I don't understand `{_clip(words)}`.\n{CASE_HELP}")


async def quarantine_answer(deps: SlackDeps) -> dict[str, Any]:
    """The newest quarantined items: when, from where, and why they were not read."""
    items = await deps.mailbox.quarantined(limit=20)
    if not items:
        return ephemeral("Nothing is in quarantine.")
    return ephemeral(f"{len(items)} item(s) in quarantine", blocks.quarantine_listing(items))


async def queue_answer(deps: SlackDeps, user_id: str, text: str) -> dict[str, Any]:
    """The reply to `/queue [next]`."""
    words = text.strip().lower()
    if words in ("help", "?"):
        return ephemeral(CASE_HELP)
    if not await deps.people.is_agent(user_id):
        await _refused(deps, user_id, Command.QUEUE, words)
        return ephemeral("Only support agents can see the queue.")
    if words == "":
        cases = await deps.cases.reads.queue(limit=15)
        return ephemeral(
            f"{len(cases)} open case(s)",
            blocks.listing("Open cases by priority", cases, "The queue is empty. :tada:"),
        )
    if words == "next":
        actor = await deps.people.actor(user_id)
        claimed = await deps.cases.agents.claim_next(actor=actor)
        if claimed is None:
            return ephemeral("No unassigned case is waiting. :tada:")
        view = await deps.cases.reads.view(claimed.number)
        return ephemeral(
            f"You claimed case #{claimed.number}.",
            blocks.case_card(view, catalog=deps.cases.catalog),
        )
    return ephemeral(
        f"I don't understand `/queue {_clip(text.strip())}`. Try `/queue` or `/queue next`."
    )


async def _refused(deps: SlackDeps, user_id: str, command: Command, words: str) -> None:
    """A non-agent's command is audited like a refused button or thread reply: who, which
    command, what they typed (clipped), and the case it named, if any."""
    actor = await deps.people.actor(user_id)
    number = _CASE_NUMBER.fullmatch(words)
    await deps.cases.record(
        None,
        "refused",
        actor.label,
        action=f"command {command.value}",
        user_id=user_id,
        text=_clip(words, 200),
        case=int(number.group(1)) if number else None,
    )


def _clip(text: str, limit: int = 60) -> str:
    """Echo what someone typed inside `code` without letting a backtick break out of it."""
    return blocks.clip(text.replace("`", "'"), limit)

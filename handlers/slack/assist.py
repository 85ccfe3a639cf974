"""Agent assist in Slack: a case's summary on demand (`/case summary N`, the card's ⋯ menu →
*Summarize*) and its history (⋯ → *History*), shown to the agent who asked only."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from handlers.slack import ids
from handlers.slack.blocks import iso_utc, person
from handlers.slack.deps import SlackDeps
from handlers.slack.errors import guarded
from handlers.slack.ids import ActionId
from handlers.slack.mrkdwn import literal
from services.assist.extract import Summary

SOURCE_LABEL = {"extract": "extract", "claude": "Claude"}
ONLY_AGENTS = "Only support agents can see a case's summary or history."
HISTORY_SHOWN = 15


def summary_lines(summary: Summary) -> str:
    """A summary as Slack shows it: quoted, literal (nothing in it pings or links), labelled
    with how it was made."""
    quoted = "\n".join(f"> {line}" for line in literal(summary.text).splitlines())
    return f"{quoted}\n_({SOURCE_LABEL.get(summary.source, summary.source)})_"


async def summary_answer(deps: SlackDeps, number: int) -> str:
    """What `/case summary N` and *Summarize* say (the case must exist: DomainError if not)."""
    await deps.cases.reads.get(number)
    summary = await deps.cases.summaries.summary(number)
    if summary is None:
        return f"Case #{number} has no messages to summarise yet."
    return f"*Case #{number} in short*\n{summary_lines(summary)}"


async def history_answer(deps: SlackDeps, number: int) -> str:
    """The case's latest audit records, newest last (the API has them all)."""
    if deps.desk is None:
        return "The case history is not available here."
    events = (await deps.desk.record(number)).audit[-HISTORY_SHOWN:]
    lines = [
        f"• {iso_utc(e.created_at)} · `{literal(e.action)}` by {person(e.actor)}" for e in events
    ]
    return f"*Case #{number}, latest {len(lines)} events*\n" + "\n".join(lines)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    async def on_more(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user = body["user"]["id"]
        chosen = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
        parsed = ids.read_more(chosen)
        if parsed is None:
            await respond(response_type="ephemeral", replace_original=False, text=BROKEN)
            return
        what, number = parsed
        await deps.cases.reads.get(number)  # a forged number: "no case #N", nothing recorded
        if not await deps.people.is_agent(user):
            actor = await deps.people.actor(user)
            await deps.cases.record(number, "refused", actor.label, action=what, user_id=user)
            await respond(response_type="ephemeral", replace_original=False, text=ONLY_AGENTS)
            return
        if what == ids.SUMMARIZE:
            text = await summary_answer(deps, number)
        else:
            text = await history_answer(deps, number)
        await respond(response_type="ephemeral", replace_original=False, text=text)

    app.action(ActionId.MORE.value)(guarded(on_more))


BROKEN = "That menu item is broken: it names no case."

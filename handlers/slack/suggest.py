"""The card's *Suggest reply*: a modal with a draft from similar resolved cases, which the agent
edits and sends (the same path as a thread reply) or discards; both are audited.

The modal opens at once (Slack's trigger lasts 3 seconds) saying it is looking, then shows the
draft. The draft is kept in the audit trail with the modal's id, so whichever process receives
the submission knows what was suggested and how much the agent changed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import ids
from handlers.slack.deps import SlackDeps
from handlers.slack.errors import guarded
from handlers.slack.ids import SUGGEST_VIEW, ActionId
from handlers.slack.mrkdwn import literal
from handlers.slack.notifier import SUGGESTED
from services.assist.suggestions import MAX_DRAFT, Draft
from services.errors import DomainError

log = logging.getLogger(__name__)

REPLY_BLOCK, REPLY_INPUT = "reply", "text"
ONLY_AGENTS = "Only support agents can ask for a suggested reply."
NOTHING = "No resolved case is similar enough to draft from: write the reply yourself, or Discard."


def modal(number: int, draft: Draft | None) -> dict[str, Any]:
    """The modal: looking (draft None), a draft with its sources, or nothing similar."""
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": SUGGEST_VIEW,
        "notify_on_close": True,
        "private_metadata": json.dumps({"case": number}),
        "title": {"type": "plain_text", "text": "Suggested reply"},
        "close": {"type": "plain_text", "text": "Discard"},
    }
    if draft is None:
        view["blocks"] = [_text(f"Looking for resolved cases like #{number}…")]
        return view
    if draft.text is None:
        said = NOTHING
    else:
        sources = literal(", ".join(draft.sources))
        how = f"by Claude, after {sources}" if draft.by == "claude" else f"from {sources}"
        said = (
            f"A draft for case #{number} {how} (similarity {draft.similarity:.2f}). Edit it,"
            " then *Send*: it reaches the customer as a reply in the card's thread would."
        )
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": REPLY_INPUT,
        "multiline": True,
        "max_length": MAX_DRAFT,
    }
    if draft.text:
        element["initial_value"] = draft.text[:MAX_DRAFT]
    view["submit"] = {"type": "plain_text", "text": "Send"}
    view["blocks"] = [
        _text(said),
        {
            "type": "input",
            "block_id": REPLY_BLOCK,
            "label": {"type": "plain_text", "text": "Reply to the customer"},
            "element": element,
        },
    ]
    return view


def _text(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _case_of(view: dict[str, Any]) -> int | None:
    try:
        number = json.loads(view.get("private_metadata") or "{}").get("case")
    except (ValueError, AttributeError):
        return None
    return number if isinstance(number, int) else None


def register(app: AsyncApp, deps: SlackDeps) -> None:
    async def on_suggest(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        user = body["user"]["id"]
        number = ids.read_button((body.get("actions") or [{}])[0].get("value"))
        if number is None:
            raise DomainError("That button is broken: it names no case.")
        await deps.cases.reads.get(number)  # a forged number: "no case #N", nothing recorded
        if not await deps.people.is_agent(user):
            actor = await deps.people.actor(user)
            await deps.cases.record(number, "refused", actor.label, action="suggest", user_id=user)
            await respond(response_type="ephemeral", replace_original=False, text=ONLY_AGENTS)
            return
        opened = await client.views_open(trigger_id=body["trigger_id"], view=modal(number, None))
        view = opened["view"]
        draft = await deps.cases.suggestions.for_case(number)
        actor = await deps.people.actor(user)
        await deps.cases.suggestion_log.offered(
            number, actor.label, view=view["id"], draft=draft.text, sources=draft.sources
        )
        await client.views_update(view_id=view["id"], hash=view["hash"], view=modal(number, draft))

    async def on_submit(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body["view"]
        values = (view.get("state") or {}).get("values") or {}
        text = str(((values.get(REPLY_BLOCK) or {}).get(REPLY_INPUT) or {}).get("value") or "")
        number = _case_of(view)
        if number is None:
            await ack()
            raise DomainError("That suggestion names no case.")
        if not text.strip():
            await ack(response_action="errors", errors={REPLY_BLOCK: "Write the reply first."})
            return
        await ack()
        user = body["user"]["id"]
        actor = await deps.people.actor(user)
        try:
            await deps.cases.agents.message(
                case_id=number,
                actor=actor,
                text=text,
                source=SUGGESTED,
                external_id=f"suggest:{view['id']}",
                mirror=True,
            )
        except DomainError as refused:  # the modal is gone: say it where the agent works
            await _tell(client, deps, number, user, f"Not sent: {refused}")
            return
        await deps.cases.suggestion_log.sent(number, actor.label, view=view["id"], text=text)

    async def on_close(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        number = _case_of(body["view"])
        if number is not None:
            actor = await deps.people.actor(body["user"]["id"])
            await deps.cases.suggestion_log.discarded(number, actor.label, view=body["view"]["id"])

    app.action(ActionId.SUGGEST.value)(guarded(on_suggest))
    app.view_submission(SUGGEST_VIEW)(guarded(on_submit))
    app.view_closed(SUGGEST_VIEW)(guarded(on_close))


async def _tell(client: AsyncWebClient, deps: SlackDeps, number: int, user: str, text: str) -> None:
    case = await deps.cases.reads.get(number)
    if case.card_channel:
        await client.chat_postEphemeral(
            channel=case.card_channel, user=user, thread_ts=case.card_ts, text=text
        )

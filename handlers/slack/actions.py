"""The case card's controls: Claim, Resolve, Escalate, Close, Reopen, and the request type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from handlers.slack.deps import SlackDeps
from handlers.slack.ids import ActionId
from services.cases import CaseService
from services.errors import DomainError
from services.types import Actor

CaseAction = Callable[[CaseService, int, Actor], Awaitable[object]]

HANDLERS: dict[ActionId, CaseAction] = {
    ActionId.CLAIM: lambda s, n, a: s.claim(n, a),
    ActionId.RESOLVE: lambda s, n, a: s.resolve(n, a),
    ActionId.ESCALATE: lambda s, n, a: s.escalate(n, a),
    ActionId.CLOSE: lambda s, n, a: s.close(n, a),
    ActionId.REOPEN: lambda s, n, a: s.reopen(n, a),
}


def register(app: AsyncApp, deps: SlackDeps) -> None:
    for action_id, handler in HANDLERS.items():
        app.action(action_id.value)(_listener(deps, handler))
    app.action(ActionId.SET_TYPE.value)(_type_listener(deps))


def _type_listener(deps: SlackDeps) -> Callable[..., Awaitable[None]]:
    async def on_select(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        selected = (body["actions"][0].get("selected_option") or {}).get("value", "")
        number, _, type_id = str(selected).partition(":")
        if not number.isdigit() or not type_id:
            await respond(
                response_type="ephemeral",
                replace_original=False,
                text="That choice is broken: no case number or request type.",
            )
            return
        actor = await deps.people.actor(body["user"]["id"])
        try:
            await deps.cases.correct_type(int(number), actor, type_id)
        except DomainError as error:
            await respond(response_type="ephemeral", replace_original=False, text=str(error))

    return on_select


def _listener(deps: SlackDeps, handler: CaseAction) -> Callable[..., Awaitable[None]]:
    async def on_click(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        value = str(body["actions"][0].get("value", ""))
        if not value.isdigit():
            await respond(
                response_type="ephemeral",
                replace_original=False,
                text="That button is broken: no case number.",
            )
            return
        actor = await deps.people.actor(body["user"]["id"])
        try:
            await handler(deps.cases, int(value), actor)
        except DomainError as error:
            await respond(response_type="ephemeral", replace_original=False, text=str(error))

    return on_click

"""The case card's controls: Claim, Resolve, Escalate, Close, Reopen, and the request type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from handlers.slack import ids
from handlers.slack.deps import SlackDeps
from handlers.slack.errors import guarded
from handlers.slack.ids import ActionId
from services.cases import CaseService
from services.errors import DomainError
from services.types import Actor

# (cases, case number, who, the action's argument: the chosen request type for the select)
CaseAction = Callable[[CaseService, int, Actor, str], Awaitable[object]]

HANDLERS: dict[ActionId, CaseAction] = {
    ActionId.CLAIM: lambda s, n, a, _: s.agents.claim(case_id=n, actor=a),
    ActionId.RESOLVE: lambda s, n, a, _: s.agents.resolve(case_id=n, actor=a),
    ActionId.ESCALATE: lambda s, n, a, _: s.agents.escalate(case_id=n, actor=a),
    ActionId.CLOSE: lambda s, n, a, _: s.agents.close(case_id=n, actor=a),
    ActionId.REOPEN: lambda s, n, a, _: s.agents.reopen(case_id=n, actor=a),
}


def register(app: AsyncApp, deps: SlackDeps) -> None:
    for action_id, handler in HANDLERS.items():
        app.action(action_id.value)(guarded(_listener(deps, _button, handler, BROKEN_BUTTON)))
    choice = _listener(deps, _choice, _set_type, BROKEN_CHOICE)
    app.action(ActionId.SET_TYPE.value)(guarded(choice))


BROKEN_BUTTON = "That button is broken: it names no case."
BROKEN_CHOICE = "That choice is broken: it names no case or no request type."


class BadPayload(DomainError):
    """An action whose payload does not say what to act on (forged or from an old card)."""


# An action's payload → (case number, argument), or None when it is malformed.
Parse = Callable[[dict[str, Any]], tuple[int, str] | None]


def _button(action: dict[str, Any]) -> tuple[int, str] | None:
    number = ids.read_button(action.get("value"))
    return None if number is None else (number, "")


def _choice(action: dict[str, Any]) -> tuple[int, str] | None:
    return ids.read_type_option((action.get("selected_option") or {}).get("value"))


def _set_type(cases: CaseService, number: int, actor: Actor, type_id: str) -> Awaitable[object]:
    return cases.triage.correct_type(case_id=number, actor=actor, type_name=type_id)


def _listener(
    deps: SlackDeps, parse: Parse, run: CaseAction, broken: str
) -> Callable[..., Awaitable[None]]:
    async def on_action(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        parsed = parse((body.get("actions") or [{}])[0])
        if parsed is None:
            raise BadPayload(broken)
        number, argument = parsed
        await run(deps.cases, number, await deps.people.actor(body["user"]["id"]), argument)

    return on_action

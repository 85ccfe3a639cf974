"""The one error path of every Slack listener, applied where it is registered (`guarded`).

A listener never raises into Bolt: Bolt (1.30) can lose an envelope's ack when a listener
raises within its 10 ms ack poll. So whatever a listener raises is answered here, once:

- a refusal or a domain error (`DomainError`): its sentence, to the user who acted;
- the database unreachable: say so plainly, and to try again in a minute;
- anything else is a bug: logged with an id the user is shown and can quote.

Each kind of listener says it its own way (`Tell`): commands and buttons through
`respond` (ephemeral), agents' thread replies with an ephemeral message in the thread.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from services.errors import DomainError
from storage.availability import unavailable

log = logging.getLogger(__name__)

UNAVAILABLE = (
    "The case database cannot be reached right now, so this cannot be done. "
    "Please try again in a minute."
)
NOT_RELAYED = "Your message was not sent to the customer."

Listener = Callable[..., Awaitable[None]]
# How a listener tells its user a sentence: given the listener's arguments (Bolt's names).
Tell = Callable[[dict[str, Any], str], Awaitable[None]]


def said(error: BaseException) -> str:
    """The sentence a user reads for `error`; a bug is logged here with the id it shows."""
    if isinstance(error, DomainError):
        log.info("refused: %s", error)
        return str(error)
    if unavailable(error):
        log.warning("listener failed, database unavailable: %s", error)
        return UNAVAILABLE
    error_id = uuid.uuid4().hex[:8]
    log.error("listener failed (error id %s)", error_id, exc_info=error)
    return f"Something went wrong on our side (error id `{error_id}`). Please try again."


async def by_respond(arguments: dict[str, Any], text: str) -> None:
    """Commands and interactions: an ephemeral answer through their response_url."""
    respond = arguments.get("respond")
    if respond is not None:
        await respond(response_type="ephemeral", replace_original=False, text=text)


async def in_thread(arguments: dict[str, Any], text: str) -> None:
    """A message in a card's thread: an ephemeral line there for its author only."""
    event, client = arguments.get("event") or {}, arguments.get("client")
    if client is None or not event.get("thread_ts") or not event.get("user"):
        return
    await client.chat_postEphemeral(
        channel=event["channel"],
        user=event["user"],
        thread_ts=event["thread_ts"],
        text=f"{text} {NOT_RELAYED}",
    )


async def unsaid(_arguments: dict[str, Any], _text: str) -> None:
    """Listeners with nobody to answer (App Home): the log has it."""


def guarded(listener: Listener, tell: Tell = by_respond) -> Listener:
    """`listener`, answering whatever it raises instead of raising it into Bolt."""

    @functools.wraps(listener)  # Bolt injects arguments by the wrapped function's names
    async def answered(**arguments: Any) -> None:
        try:
            await listener(**arguments)
        except Exception as error:
            text = said(error)
            try:
                await tell(arguments, text)
            except Exception:  # telling failed too: the log has both
                log.exception("could not tell the user: %s", text)

    return answered


def register(app: AsyncApp) -> None:
    """Errors outside the listeners (Bolt's middleware) take the same path."""

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], respond: Any = None) -> None:
        text = said(error)
        if respond is not None and body.get("response_url"):
            await by_respond({"respond": respond}, text)

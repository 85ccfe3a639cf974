"""Slack listeners (events, commands, actions), Block Kit views and the outbox notifier."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.slack import (
    actions,
    assist,
    commands,
    errors,
    events,
    home,
    open_from_message,
    ratings,
    reply_undo,
    suggest,
)
from handlers.slack.catch_up import CatchUp
from handlers.slack.deps import SlackDeps


def register(app: AsyncApp, deps: SlackDeps) -> CatchUp:
    """Attach every listener to `app`; returns the catch-up to run once connected."""
    read_back = events.register(app, deps)
    commands.register(app, deps)
    actions.register(app, deps)
    assist.register(app, deps)
    suggest.register(app, deps)
    reply_undo.register(app, deps)
    ratings.register(app, deps)
    open_from_message.register(app, deps, reaction=deps.case_reaction)
    if deps.home is not None:
        home.register(app, deps.home)
    errors.register(app)
    return CatchUp(app.client, deps, read_back)

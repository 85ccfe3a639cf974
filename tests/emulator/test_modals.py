"""The emulator's modals are as strict as Slack's: a trigger_id lasts 3 seconds and serves
once, a modal with inputs needs a submit button, a title fits in 24 characters."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.modals import TRIGGER_SECONDS


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    emulator = SlackEmulator(bot_token="xoxb-t", app_token="xapp-t")
    await emulator.start()
    emulator.add_user("UAGNES", "agnes")
    try:
        yield emulator
    finally:
        await emulator.stop()


def a_modal(**overrides: Any) -> dict[str, Any]:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Suggested reply"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reply",
                "label": {"type": "plain_text", "text": "Reply"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            }
        ],
    }
    return {**view, **overrides}


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as refused:
        await call
    return str(refused.value.response["error"])


async def test_a_trigger_opens_one_modal_within_three_seconds(slack: SlackEmulator) -> None:
    web = AsyncWebClient(token="xoxb-t", base_url=slack.api_url)
    slack.workspace.triggers["t1"] = ("UAGNES", 0.0)  # issued long ago
    assert await error_of(web.views_open(trigger_id="t1", view=a_modal())) == "expired_trigger_id"
    assert await error_of(web.views_open(trigger_id="t2", view=a_modal())) == "invalid_trigger_id"
    slack.workspace.triggers["t3"] = ("UAGNES", time.monotonic())
    opened = (await web.views_open(trigger_id="t3", view=a_modal()))["view"]
    assert slack.modals[opened["id"]]["user"] == "UAGNES"
    assert await error_of(web.views_open(trigger_id="t3", view=a_modal())) == "invalid_trigger_id"
    assert TRIGGER_SECONDS == 3.0

    changed = await web.views_update(view_id=opened["id"], hash=opened["hash"], view=a_modal())
    stale = web.views_update(view_id=opened["id"], hash=opened["hash"], view=a_modal())
    assert await error_of(stale) == "hash_conflict"
    assert changed["view"]["id"] == opened["id"]


async def test_a_modal_slack_would_refuse_is_refused(slack: SlackEmulator) -> None:
    web = AsyncWebClient(token="xoxb-t", base_url=slack.api_url)
    for n, bad in enumerate(
        [
            {k: v for k, v in a_modal().items() if k != "submit"},
            a_modal(title={"type": "plain_text", "text": "A title much longer than Slack allows"}),
            a_modal(type="home"),
        ]
    ):
        slack.workspace.triggers[f"t{n}"] = ("UAGNES", time.monotonic())
        assert await error_of(web.views_open(trigger_id=f"t{n}", view=bad)) == "invalid_arguments"
    assert slack.modals == {}

"""Driving the bot's Slack surfaces as a person does: a slash command and its ephemeral answer,
opening App Home and reading what it draws."""

from __future__ import annotations

from bot.sandbox.emulator import SlackEmulator
from tests.e2e.conftest import JSON


async def answer(slack: SlackEmulator, user: str, command: str, text: str) -> dict:
    result = await slack.slash_command(user, command, text)
    assert result.ack_payload in (None, {}), "the command is acked at once, answered after"
    responses = await slack.wait_for(lambda: result.responses)
    assert len(responses) == 1
    body: dict = responses[0]
    assert body.get("response_type") == "ephemeral"
    return body


def home_text(view: JSON) -> str:
    parts = []
    for block in view.get("blocks", []):
        for field in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(field, dict) and "text" in field:
                parts.append(str(field["text"]))
    return "\n".join(parts)


async def opened_home(slack: SlackEmulator, user: str, expect: str) -> str:
    await slack.send_event(
        {"type": "app_home_opened", "user": user, "channel": slack.open_dm(user), "tab": "home"}
    )
    return await slack.wait_for(
        lambda: (view := slack.views.get(user)) and expect in (t := home_text(view)) and t
    )

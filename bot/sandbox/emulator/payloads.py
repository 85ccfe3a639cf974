"""Builders for the payloads real Slack sends over Socket Mode.

Field names and nesting follow captured Slack traffic so Bolt's parsing
(context extraction, self-event filtering, ack routing) runs for real.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from bot.sandbox.emulator.models import JSONDict
from bot.sandbox.emulator.state import Workspace


def new_id(prefix: str, length: int = 10) -> str:
    return prefix + uuid.uuid4().hex[:length].upper()


def envelope(kind: str, payload: JSONDict, *, accepts_response_payload: bool) -> JSONDict:
    """Wrap a payload the way Socket Mode does."""
    data: JSONDict = {
        "envelope_id": str(uuid.uuid4()),
        "type": kind,
        "accepts_response_payload": accepts_response_payload,
        "payload": payload,
    }
    if kind == "events_api":
        data["retry_attempt"] = 0
        data["retry_reason"] = ""
    return data


def event_callback(ws: Workspace, event: JSONDict, event_id: str) -> JSONDict:
    """An Events API outer payload around `event`."""
    return {
        "token": "x",
        "team_id": ws.team_id,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": new_id("4-", 24),
    }


def message_event(channel_id: str, channel_type: str, message: JSONDict) -> JSONDict:
    """A `message` event for a stored message (user or bot)."""
    event: JSONDict = {
        key: value
        for key, value in message.items()
        if key
        not in (
            "event_id",
            "channel_type",
            "reply_count",
            "reply_users",
            "reply_users_count",
            "latest_reply",
            "reactions",
        )
    }
    event.update(
        {
            "type": "message",
            "channel": channel_id,
            "event_ts": message["ts"],
            "channel_type": channel_type,
        }
    )
    return event


def _user_name(ws: Workspace, user_id: str) -> str:
    user = ws.users.get(user_id)
    return user.name if user is not None else user_id.lower()


def _channel_name(ws: Workspace, channel_id: str) -> str:
    channel = ws.channels.get(channel_id)
    if (channel is not None and channel.is_im) or channel_id.startswith("D"):
        return "directmessage"
    return channel.name if channel is not None else channel_id.lower()


def slash_command(
    ws: Workspace, user_id: str, command: str, text: str, channel_id: str, response_url: str
) -> JSONDict:
    return {
        "token": "x",
        "team_id": ws.team_id,
        "team_domain": ws.team_domain,
        "channel_id": channel_id,
        "channel_name": _channel_name(ws, channel_id),
        "user_id": user_id,
        "user_name": _user_name(ws, user_id),
        "command": command,
        "text": text,
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": new_trigger_id(),
    }


def new_trigger_id() -> str:
    return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"


def _find_element(message: JSONDict | None, action_id: str) -> tuple[str | None, JSONDict]:
    """The block_id and element of `action_id` inside a message's blocks, if present."""
    blocks: Any = (message or {}).get("blocks") or []
    for block in blocks if isinstance(blocks, list) else []:
        elements: list[Any] = list(block.get("elements") or [])
        for single in ("accessory", "element"):  # a section's button, an input's field
            if block.get(single):
                elements.append(block[single])
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id"), element
    return None, {}


def _option(element: JSONDict, value: str | None) -> JSONDict:
    """The option of a static select (or an overflow menu) whose value is `value`."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    for option in options:
        if option.get("value") == value:
            return dict(option)
    raise LookupError(f"the select {element.get('action_id')} offers no option {value!r}")


def block_actions(
    ws: Workspace,
    *,
    user_id: str,
    channel_id: str,
    message_ts: str,
    message: JSONDict | None,
    action_id: str,
    value: str | None,
    block_id: str | None,
    response_url: str,
    ephemeral: JSONDict | None = None,
) -> JSONDict:
    """A block_actions payload for a button click or a choice in a static select (in a
    stored message, or in an ephemeral one: Slack sends no `message` for those)."""
    found_block_id, element = _find_element(message or ephemeral, action_id)
    label = element.get("text") or {"type": "plain_text", "text": value or action_id}
    action: JSONDict = {
        "action_id": action_id,
        "block_id": block_id or found_block_id or new_id("", 5).lower(),
        "text": label,
        "type": element.get("type", "button"),
        "action_ts": f"{time.time():.6f}",
    }
    if element.get("type") == "plain_text_input":
        del action["text"]  # what was typed, sent on Enter (dispatch_action)
        action["value"] = value or ""
    elif element.get("type") == "static_select":
        # A select sends the chosen option, and only one of the options it offers.
        del action["text"]
        action["selected_option"] = _option(element, value)
        action["placeholder"] = element.get("placeholder")
    elif element.get("type") == "overflow":  # a ⋯ menu: the chosen item, nothing else
        del action["text"]
        action["selected_option"] = _option(element, value)
    elif value is not None or "value" in element:
        action["value"] = value if value is not None else element["value"]
    payload: JSONDict = {
        "type": "block_actions",
        "user": {
            "id": user_id,
            "username": _user_name(ws, user_id),
            "name": _user_name(ws, user_id),
            "team_id": ws.team_id,
        },
        "api_app_id": ws.app_id,
        "token": "x",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": message is None,
        },
        "trigger_id": new_trigger_id(),
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": _channel_name(ws, channel_id)},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    if message is not None:
        payload["message"] = message
    return payload


def message_action(
    ws: Workspace,
    *,
    user_id: str,
    channel_id: str,
    message: JSONDict,
    callback_id: str,
    response_url: str,
) -> JSONDict:
    """A message shortcut ("Open a case" in a message's ⋯ menu): Slack sends the message."""
    return {
        "type": "message_action",
        "token": "x",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "user": {
            "id": user_id,
            "username": _user_name(ws, user_id),
            "name": _user_name(ws, user_id),
            "team_id": ws.team_id,
        },
        "channel": {"id": channel_id, "name": _channel_name(ws, channel_id)},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": new_trigger_id(),
        "response_url": response_url,
        "message_ts": message["ts"],
        "message": {k: v for k, v in message.items() if k not in ("channel", "event_id")},
    }


def reaction_added(user_id: str, reaction: str, message: JSONDict, channel_id: str) -> JSONDict:
    """The reaction_added event: which message, by its channel and ts (never its text)."""
    return {
        "type": "reaction_added",
        "user": user_id,
        "reaction": reaction,
        "item_user": message.get("user"),
        "item": {"type": "message", "channel": channel_id, "ts": message["ts"]},
        "event_ts": f"{time.time():.6f}",
    }


def view_payload(ws: Workspace, kind: str, user_id: str, view: JSONDict) -> JSONDict:
    """A view_submission or view_closed payload for a modal (its state holds the inputs)."""
    shown = {k: v for k, v in view.items() if k != "user"}
    payload: JSONDict = {
        "type": kind,
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "user": {"id": user_id, "username": _user_name(ws, user_id), "team_id": ws.team_id},
        "api_app_id": ws.app_id,
        "token": "x",
        "view": {"team_id": ws.team_id, "app_id": ws.app_id, **shown},
        "is_enterprise_install": False,
        "enterprise": None,
    }
    if kind == "view_submission":
        payload["trigger_id"] = new_trigger_id()
        payload["response_urls"] = []
    else:
        payload["is_cleared"] = False
    return payload

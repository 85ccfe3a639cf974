"""What the sandbox page shows, read from the emulator's workspace as plain JSON."""

from __future__ import annotations

from typing import Any

from bot.sandbox.emulator.state import Workspace
from bot.sandbox.workspace import PEOPLE, ROOMS, TEAM_PURPOSE, starting_room

JSON = dict[str, Any]
MAX_MESSAGES = 200  # per channel: the page stays light after a long session


def snapshot(ws: Workspace) -> JSON:
    """The people, the channels (then each DM with the bot) with their messages and
    threads, what only one person sees (ephemeral answers), and each person's App Home."""
    rooms: list[JSON] = [
        {"id": room.id, "name": f"#{room.name}", "purpose": room.purpose, "dm_of": None}
        for room in ROOMS
    ]
    shown = {room.id for room in ROOMS}
    rooms += [
        {"id": channel.id, "name": f"#{channel.name}", "purpose": TEAM_PURPOSE, "dm_of": None}
        for channel in ws.channels.values()
        if not channel.is_im and channel.id not in shown
    ]
    for channel in ws.channels.values():
        if channel.is_im and channel.user is not None:
            other = ws.users.get(channel.user)
            rooms.append(
                {
                    "id": channel.id,
                    "name": f"DM {other.name if other else channel.user} ↔ casebot",
                    "purpose": "a direct message with the bot",
                    "dm_of": channel.user,
                }
            )
    for room in rooms:
        room["messages"] = [
            message_json(ws, m, replies=ws.replies(room["id"], m["ts"]))
            for m in ws.messages(room["id"])[-MAX_MESSAGES:]
        ]
    return {
        "version": ws.signal.version,
        "people": [
            {"id": p.id, "name": p.name, "role": p.role.value, "room": starting_room(p).id}
            for p in PEOPLE
        ],
        "names": {user.id: user.name for user in ws.users.values()},
        "channels": rooms,
        "ephemerals": [
            {k: e.get(k) for k in ("channel", "user", "text", "blocks", "ts")}
            for e in ws.ephemerals[-MAX_MESSAGES:]
        ],
        "homes": dict(ws.views),
        "modals": [
            {k: m.get(k) for k in ("id", "user", "title", "submit", "close", "blocks")}
            for m in ws.modals.values()
        ],
    }


def message_json(ws: Workspace, message: JSON, *, replies: list[JSON] | None = None) -> JSON:
    """One message as the page draws it: author, text, blocks, files, thread."""
    user = message.get("user") or ""
    is_bot = bool(message.get("bot_id")) or user == ws.bot_user_id
    author = ws.users.get(user)
    return {
        "ts": message["ts"],
        "user": user,
        "author": ws.bot_name if is_bot else (author.name if author else user),
        "bot": is_bot,
        "text": message.get("text") or "",
        "blocks": message.get("blocks") or [],
        "files": [f.get("name") or f.get("title") for f in message.get("files") or []],
        "edited": "edited" in message,
        "reactions": [r["name"] for r in message.get("reactions") or []],
        "replies": [message_json(ws, r) for r in replies or []],
    }

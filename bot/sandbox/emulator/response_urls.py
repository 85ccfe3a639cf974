"""The response_url endpoint that Bolt's respond() posts to.

Each slash command or click gets its own url id; bodies are recorded both
globally and in the CommandResult that the driving call returned. Like Slack,
`response_type: in_channel` posts visibly and `replace_original` /
`delete_original` act on the clicked message (an ephemeral one too, for its reader).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from aiohttp import web

from bot.sandbox.emulator.models import JSONDict
from bot.sandbox.emulator.state import Workspace


@dataclass
class ResponseTarget:
    """Where a response_url's messages go and who is listening."""

    channel_id: str
    user_id: str
    message_ts: str | None = None  # the clicked message, for replace/delete_original
    bodies: list[JSONDict] = field(default_factory=list)


class ResponseUrls:
    """Issues response URLs and applies what the app posts to them."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._targets: dict[str, ResponseTarget] = {}

    def issue(self, target: ResponseTarget) -> str:
        url_id = uuid.uuid4().hex
        self._targets[url_id] = target
        return url_id

    async def handle(self, request: web.Request) -> web.Response:
        url_id = request.match_info["url_id"]
        target = self._targets.get(url_id)
        if target is None:
            return web.json_response({"ok": False, "error": "expired_url"}, status=404)
        try:
            body = json.loads(await request.text())
        except json.JSONDecodeError:
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        self._apply(target, body)
        target.bodies.append(body)
        self.workspace.responses.append({"url_id": url_id, "body": body})
        self.workspace.changed()
        return web.json_response({"ok": True})

    def _apply(self, target: ResponseTarget, body: JSONDict) -> None:
        ws = self.workspace
        content: JSONDict = {k: body[k] for k in ("text", "blocks", "attachments") if k in body}
        ephemeral = next(
            (
                e
                for e in ws.ephemerals
                if target.message_ts
                and e.get("ts") == target.message_ts
                and e["channel"] == target.channel_id
            ),
            None,
        )
        if ephemeral is not None and (body.get("delete_original") or body.get("replace_original")):
            # An ephemeral message clicked: only its reader's copy changes (or goes).
            if body.get("delete_original"):
                ws.ephemerals.remove(ephemeral)
            else:
                ephemeral.update({"text": body.get("text", ""), "blocks": body.get("blocks")})
        elif body.get("delete_original") and target.message_ts:
            ws.delete_message(target.channel_id, target.message_ts)
        elif body.get("replace_original") and target.message_ts:
            ws.update_message(target.channel_id, target.message_ts, content)
        elif body.get("response_type") == "in_channel":
            message: JSONDict = {
                "type": "message",
                "user": ws.bot_user_id,
                "bot_id": ws.bot_id,
                "team": ws.team_id,
                "ts": ws.next_ts(),
                "channel": target.channel_id,
                "text": "",
                **content,
            }
            if body.get("thread_ts"):
                message["thread_ts"] = body["thread_ts"]
            ws.store_message(target.channel_id, message)
        else:
            ws.ephemerals.append(
                {
                    "channel": target.channel_id,
                    "user": target.user_id,
                    "text": body.get("text", ""),
                    "blocks": body.get("blocks"),
                    "ts": ws.next_ts(),
                    "thread_ts": body.get("thread_ts"),
                }
            )

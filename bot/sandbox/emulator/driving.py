"""What people do in the emulated workspace, and what Slack then sends the app: messages,
slash commands, clicks, message shortcuts, reactions and any event. Each is held to the
app's manifest: an event it does not subscribe to (or lacks the scope for), a channel the
bot is not in, a command or shortcut it does not declare never reaches it."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Sequence

from bot.sandbox.emulator import payloads, scopes
from bot.sandbox.emulator.manifest import AppManifest
from bot.sandbox.emulator.models import Ack, CommandResult, JSONDict, NotDelivered
from bot.sandbox.emulator.response_urls import ResponseTarget, ResponseUrls
from bot.sandbox.emulator.socket_mode import SocketHub
from bot.sandbox.emulator.state import Workspace

# message.* subscription per `channel_type` of a message event.
_MESSAGE_SUBSCRIPTIONS = {
    "channel": "message.channels",
    "group": "message.groups",
    "im": "message.im",
    "mpim": "message.mpim",
}


class Driving:
    """The driving half of SlackEmulator (which provides these attributes)."""

    workspace: Workspace
    hub: SocketHub
    manifest: AppManifest
    response_urls: ResponseUrls
    undelivered: list[tuple[str, JSONDict]]

    @property
    def base_url(self) -> str:
        raise NotImplementedError

    def person_file(self, user_id: str, name: str, content: bytes) -> JSONDict:
        """A file `user_id` uploaded (its object as a message carries it)."""
        raise NotImplementedError

    def _granted(self) -> frozenset[str]:
        raise NotImplementedError

    async def _interact(
        self,
        target: ResponseTarget,
        kind: str,
        build: Callable[[str], JSONDict],
        timeout: float,  # noqa: ASYNC109
    ) -> CommandResult:
        """Send an interactive payload with a fresh response_url; its ack and the responses."""
        url_id = self.response_urls.issue(target)
        payload = build(f"{self.base_url}/response/{url_id}")
        if "trigger_id" in payload:  # views.open takes it for 3 seconds
            self.workspace.triggers[payload["trigger_id"]] = (target.user_id, time.monotonic())
        env = payloads.envelope(kind, payload, accepts_response_payload=kind == "slash_commands")
        ack = await self.hub.send_envelope(env, timeout)
        return CommandResult(ack.payload, target.bodies, env["envelope_id"], url_id)

    def _why_not_delivered(self, event: JSONDict) -> str | None:
        """Why Slack would keep this event from the app, or None if it sends it."""
        kind = str(event.get("type"))
        subscription = kind
        if kind == "message":
            channel_type = str(event.get("channel_type") or "channel")
            subscription = _MESSAGE_SUBSCRIPTIONS.get(channel_type, "message.channels")
        where = event.get("channel") or (event.get("item") or {}).get("channel")
        channel = self.workspace.channels.get(str(where)) if where else None
        if channel is not None and not channel.is_im and not channel.is_member:
            return f"the bot is not a member of {channel.id}"
        if subscription not in self.manifest.bot_events:
            return f"the manifest does not subscribe to {subscription}"
        scope = scopes.EVENT_SCOPES.get(subscription)
        if scope is not None and scope not in self._granted():
            return f"{subscription} needs {scope}, which the token lacks"
        return None

    async def send_event(self, event: JSONDict, timeout: float = 5.0) -> Ack:  # noqa: ASYNC109
        """Deliver any Events API `event` (app_mention, reaction_added, ...); raises
        NotDelivered for an event Slack would not send (not subscribed, bot not in channel)."""
        reason = self._why_not_delivered(event)
        if reason is not None:
            self.undelivered.append((reason, event))
            raise NotDelivered(f"{event.get('type')}: {reason}")
        event_id = payloads.new_id("Ev")
        payload = payloads.event_callback(self.workspace, event, event_id)
        env = payloads.envelope("events_api", payload, accepts_response_payload=False)
        return await self.hub.send_envelope(env, timeout)

    async def user_message(
        self,
        user_id: str,
        channel_id: str,
        text: str,
        thread_ts: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        files: Sequence[tuple[str, bytes]] = (),
        file_stubs: bool = False,
    ) -> JSONDict:
        """A human posts `text` (with `files`, as (name, bytes), uploaded with it); it is
        stored and delivered as a message event (subtype file_share when it has files).
        `file_stubs`: the event names the files only (`file_access: check_file_info`, as
        Slack sends for files from other organisations): files.info has the rest."""
        ws = self.workspace
        if channel_id not in ws.channels:
            raise LookupError(f"unknown channel {channel_id}: add_channel/open_dm it first")
        channel_type = ws.channel_type(channel_id)
        message: JSONDict = {
            "type": "message",
            "user": user_id,
            "text": text,
            "ts": ws.next_ts(),
            "team": ws.team_id,
            "client_msg_id": str(uuid.uuid4()),
            "channel": channel_id,
            "channel_type": channel_type,
            "event_id": payloads.new_id("Ev"),
        }
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        if files:
            message["subtype"] = "file_share"
            message["upload"] = True
            shared = [self.person_file(user_id, name, data) for name, data in files]
            if file_stubs:
                shared = [
                    {"id": f["id"], "mode": "file_access", "file_access": "check_file_info"}
                    for f in shared
                ]
            message["files"] = shared
        ws.store_message(channel_id, message)
        event = payloads.message_event(channel_id, channel_type, message)
        reason = self._why_not_delivered(event)
        if reason is not None:  # posted all the same: Slack just does not tell the app
            self.undelivered.append((reason, event))
            return message
        payload = payloads.event_callback(ws, event, message["event_id"])
        env = payloads.envelope("events_api", payload, accepts_response_payload=False)
        await self.hub.send_envelope(env, timeout)
        return message

    async def edit_message(
        self,
        user_id: str,
        channel_id: str,
        ts: str,
        text: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSONDict:
        """The author edits their message: stored, and a `message_changed` event goes out
        with the new and the previous message (Slack lets people edit only their own)."""
        message, previous = self._own(user_id, channel_id, ts)
        message["text"] = text
        message["edited"] = {"user": user_id, "ts": self.workspace.next_ts()}
        self.workspace.changed()
        inner = {k: v for k, v in message.items() if k not in ("event_id", "channel_type")}
        await self._subtype_event(
            channel_id,
            {"subtype": "message_changed", "message": inner, "previous_message": previous},
            timeout,
        )
        return message

    async def delete_by_author(
        self,
        user_id: str,
        channel_id: str,
        ts: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """The author deletes their message: gone, and a `message_deleted` event goes out."""
        _message, previous = self._own(user_id, channel_id, ts)
        self.workspace.delete_message(channel_id, ts)
        await self._subtype_event(
            channel_id,
            {"subtype": "message_deleted", "deleted_ts": ts, "previous_message": previous},
            timeout,
        )

    def _own(self, user_id: str, channel_id: str, ts: str) -> tuple[JSONDict, JSONDict]:
        message = self.workspace.get_message(channel_id, ts)
        if message is None:
            raise LookupError(f"no message {ts} in {channel_id}")
        if message.get("user") != user_id:
            raise PermissionError(f"{user_id} cannot change {message.get('user')}'s message")
        previous = {k: v for k, v in message.items() if k not in ("event_id", "channel_type")}
        return message, previous

    async def _subtype_event(self, channel_id: str, fields: JSONDict, timeout: float) -> None:  # noqa: ASYNC109
        """A hidden message event about an earlier message (an edit, a deletion); held to
        the manifest like any message event, and noted in `undelivered` when Slack would not
        send it."""
        ts = self.workspace.next_ts()
        event: JSONDict = {
            "type": "message",
            "hidden": True,
            "channel": channel_id,
            "channel_type": self.workspace.channel_type(channel_id),
            "ts": ts,
            "event_ts": ts,
            **fields,
        }
        with contextlib.suppress(NotDelivered):  # noted in `undelivered`
            await self.send_event(event, timeout)

    async def slash_command(
        self,
        user_id: str,
        command: str,
        text: str = "",
        channel: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CommandResult:
        """Invoke a slash command (in the user's DM with the bot if no channel); a command
        the manifest does not declare raises NotDelivered, as Slack would not send it."""
        if command not in self.manifest.commands:
            raise NotDelivered(f"{command}: not a slash command of this app's manifest")
        channel_id = channel or self.workspace.open_dm(user_id)
        return await self._interact(
            ResponseTarget(channel_id, user_id),
            "slash_commands",
            lambda url: payloads.slash_command(
                self.workspace, user_id, command, text, channel_id, url
            ),
            timeout,
        )

    async def click(
        self,
        user_id: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CommandResult:
        """Click a button in a stored (or ephemeral) message."""
        if not self.manifest.interactivity:
            raise NotDelivered("interactivity is not enabled in the manifest")
        ws = self.workspace
        message = ws.get_message(channel, message_ts)
        ephemeral = next(
            (e for e in ws.ephemerals if e["channel"] == channel and e.get("ts") == message_ts),
            None,
        )
        if message is None and ephemeral is None:
            raise LookupError(f"no message {message_ts} in {channel} to click on")
        return await self._interact(
            ResponseTarget(channel, user_id, message_ts),
            "interactive",
            lambda url: payloads.block_actions(
                ws,
                user_id=user_id,
                channel_id=channel,
                message_ts=message_ts,
                message=message,
                action_id=action_id,
                value=value,
                block_id=block_id,
                response_url=url,
                ephemeral=ephemeral,
            ),
            timeout,
        )

    async def submit_view(
        self,
        user_id: str,
        view_id: str,
        values: dict[str, dict[str, str]],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CommandResult:
        """Submit an open modal with `values` (block_id -> action_id -> typed text); the
        modal closes unless the app's ack answers `response_action: errors`."""
        view = self.workspace.modals.get(view_id)
        if view is None or view["user"] != user_id:
            raise LookupError(f"no modal {view_id} open for {user_id}")
        state = {
            block: {a: {"type": "plain_text_input", "value": v} for a, v in inputs.items()}
            for block, inputs in values.items()
        }
        submitted = {**view, "state": {"values": state}}
        result = await self._interact(
            ResponseTarget(view.get("channel", ""), user_id),
            "interactive",
            lambda _url: payloads.view_payload(
                self.workspace, "view_submission", user_id, submitted
            ),
            timeout,
        )
        if (result.ack_payload or {}).get("response_action") != "errors":
            self.workspace.modals.pop(view_id, None)
            self.workspace.changed()
        return result

    async def close_view(
        self,
        user_id: str,
        view_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CommandResult | None:
        """Close (cancel) an open modal; the app hears of it only with notify_on_close."""
        view = self.workspace.modals.pop(view_id, None)
        if view is None or view["user"] != user_id:
            raise LookupError(f"no modal {view_id} open for {user_id}")
        self.workspace.changed()
        if not view.get("notify_on_close"):
            return None
        return await self._interact(
            ResponseTarget(view.get("channel", ""), user_id),
            "interactive",
            lambda _url: payloads.view_payload(self.workspace, "view_closed", user_id, view),
            timeout,
        )

    async def message_shortcut(
        self,
        user_id: str,
        channel: str,
        message_ts: str,
        callback_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CommandResult:
        """Choose a message shortcut in a message's menu; NotDelivered if the manifest does not
        declare it (or interactivity is off), as Slack would not offer it."""
        if not self.manifest.interactivity or callback_id not in self.manifest.shortcuts:
            raise NotDelivered(f"{callback_id}: not a shortcut of this app's manifest")
        message = self.workspace.get_message(channel, message_ts)
        if message is None:
            raise LookupError(f"no message {message_ts} in {channel}")
        return await self._interact(
            ResponseTarget(channel, user_id, message_ts),
            "interactive",
            lambda url: payloads.message_action(
                self.workspace,
                user_id=user_id,
                channel_id=channel,
                message=message,
                callback_id=callback_id,
                response_url=url,
            ),
            timeout,
        )

    async def react(
        self,
        user_id: str,
        channel: str,
        message_ts: str,
        name: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """A person adds reaction `name` to a message: stored on it, and reaction_added goes to
        the app when it subscribes and is in the channel (as Slack does; else it is noted in
        `undelivered`)."""
        message = self.workspace.get_message(channel, message_ts)
        if message is None:
            raise LookupError(f"no message {message_ts} in {channel}")
        self.workspace.add_reaction(message, name, user_id)
        with contextlib.suppress(NotDelivered):  # noted in `undelivered`
            await self.send_event(payloads.reaction_added(user_id, name, message, channel), timeout)

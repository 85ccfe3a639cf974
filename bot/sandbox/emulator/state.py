"""The emulated workspace: directory, message store and recorded traffic.

Everything the Web API, the socket hub and the tests read or write lives
here, so there is a single source of truth and a single change signal that
`wait_for` can block on.
"""

from __future__ import annotations

import time
from typing import Any

from bot.sandbox.emulator.changes import ChangeSignal
from bot.sandbox.emulator.models import ApiCall, Channel, JSONDict, UploadedFile, User, Usergroup


class Workspace:
    """Users, channels, messages and everything observed, for one team."""

    def __init__(
        self,
        *,
        team_id: str,
        team_domain: str,
        bot_user_id: str,
        bot_id: str,
        bot_name: str,
        app_id: str,
    ) -> None:
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.signal = ChangeSignal()
        self.users: dict[str, User] = {bot_user_id: User(bot_user_id, bot_name, is_bot=True)}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, Usergroup] = {}
        self.calls: list[ApiCall] = []
        self.ephemerals: list[JSONDict] = []
        self.responses: list[JSONDict] = []
        self.views: dict[str, JSONDict] = {}
        self.modals: dict[str, JSONDict] = {}  # open modals by view id
        self.triggers: dict[str, tuple[str, float]] = {}  # trigger_id -> (user, when issued)
        self.files: dict[str, UploadedFile] = {}
        self._dm_by_user: dict[str, str] = {}
        self._history: dict[str, list[JSONDict]] = {}
        self._threads: dict[tuple[str, str], list[JSONDict]] = {}
        self._index: dict[tuple[str, str], JSONDict] = {}
        self._last_ts_us = 0

    # ---- identifiers ----------------------------------------------------

    def next_ts(self) -> str:
        """A Slack-looking ts ("1700000000.000100"), strictly increasing."""
        now_us = int(time.time() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        sec, micro = divmod(self._last_ts_us, 1_000_000)
        return f"{sec}.{micro:06d}"

    def changed(self) -> None:
        """Tell `wait_for` waiters to re-check their predicates."""
        self.signal.notify()

    # ---- directory ------------------------------------------------------

    def add_user(self, user_id: str, name: str, *, is_bot: bool = False) -> None:
        self.users[user_id] = User(user_id, name, is_bot=is_bot)
        self.changed()

    def add_channel(
        self, channel_id: str, name: str, *, is_private: bool = False, is_member: bool = True
    ) -> None:
        self.channels[channel_id] = Channel(
            channel_id, name, is_private=is_private, is_member=is_member, created=int(time.time())
        )
        self._history.setdefault(channel_id, [])
        self.changed()

    def open_dm(self, user_id: str) -> str:
        """The stable DM channel id between `user_id` and the bot (created on demand)."""
        existing = self._dm_by_user.get(user_id)
        if existing is not None:
            return existing
        channel_id = f"D{len(self._dm_by_user) + 1:08d}"
        self._dm_by_user[user_id] = channel_id
        self.channels[channel_id] = Channel(
            channel_id, channel_id, is_im=True, user=user_id, created=int(time.time())
        )
        self._history.setdefault(channel_id, [])
        self.changed()
        return channel_id

    def add_usergroup(self, group_id: str, handle: str, users: list[str]) -> None:
        self.usergroups[group_id] = Usergroup(group_id, handle, list(users))
        self.changed()

    def resolve_channel(self, ref: str) -> Channel | None:
        """Accept a channel id, a name (with or without '#') or a user id (-> DM)."""
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users and ref != self.bot_user_id:
            return self.channels[self.open_dm(ref)]
        name = ref.removeprefix("#")
        for channel in self.channels.values():
            if not channel.is_im and channel.name == name:
                return channel
        return None

    def channel_type(self, channel_id: str) -> str:
        """The `channel_type` Slack puts on message events."""
        channel = self.channels.get(channel_id)
        if (channel is not None and channel.is_im) or channel_id.startswith("D"):
            return "im"
        if channel is not None and channel.is_private:
            return "group"
        return "channel"

    # ---- messages -------------------------------------------------------

    def store_message(self, channel_id: str, message: JSONDict) -> JSONDict:
        """Store a message (top level or thread reply, by its thread_ts) and return it."""
        ts = str(message["ts"])
        thread_ts = message.get("thread_ts")
        if thread_ts is not None and thread_ts != ts:
            self._threads.setdefault((channel_id, str(thread_ts)), []).append(message)
            parent = self._index.get((channel_id, str(thread_ts)))
            if parent is not None:
                self._note_reply(parent, message)
        else:
            self._history.setdefault(channel_id, []).append(message)
        self._index[(channel_id, ts)] = message
        self.changed()
        return message

    @staticmethod
    def _note_reply(parent: JSONDict, reply: JSONDict) -> None:
        parent["thread_ts"] = parent["ts"]
        parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
        parent["latest_reply"] = reply["ts"]
        users: list[str] = parent.setdefault("reply_users", [])
        if reply.get("user") and reply["user"] not in users:
            users.append(reply["user"])
        parent["reply_users_count"] = len(users)

    def messages(self, channel_id: str) -> list[JSONDict]:
        """Top-level messages of a channel, oldest first."""
        return list(self._history.get(channel_id, []))

    def replies(self, channel_id: str, thread_ts: str) -> list[JSONDict]:
        """Replies in a thread, oldest first, without the parent."""
        return list(self._threads.get((channel_id, thread_ts), []))

    def get_message(self, channel_id: str, ts: str) -> JSONDict | None:
        return self._index.get((channel_id, ts))

    def update_message(self, channel_id: str, ts: str, changes: JSONDict) -> JSONDict | None:
        """Apply changes in place (so threads/history see them); None if unknown."""
        message = self._index.get((channel_id, ts))
        if message is None:
            return None
        message.update(changes)
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        self.changed()
        return message

    def add_reaction(self, message: JSONDict, name: str, user_id: str) -> bool:
        """`user_id` reacts with `name`; False when they already had (Slack: already_reacted)."""
        reactions: list[dict[str, Any]] = message.setdefault("reactions", [])
        for reaction in reactions:
            if reaction["name"] == name:
                if user_id in reaction["users"]:
                    return False
                reaction["users"].append(user_id)
                reaction["count"] += 1
                break
        else:
            reactions.append({"name": name, "users": [user_id], "count": 1})
        self.changed()
        return True

    def delete_message(self, channel_id: str, ts: str) -> bool:
        message = self._index.pop((channel_id, ts), None)
        if message is None:
            return False
        for bucket in (self._history.get(channel_id, []), *self._threads.values()):
            bucket[:] = [m for m in bucket if m is not message]
        self.changed()
        return True

    # ---- files ----------------------------------------------------------

    def add_file(self, upload: UploadedFile) -> UploadedFile:
        self.files[upload.id] = upload
        self.changed()
        return upload

    def file_by_upload_key(self, key: str) -> UploadedFile | None:
        """The file whose upload URL carries `key` (the secret part of the URL)."""
        return next((f for f in self.files.values() if f.upload_key == key), None)

    # ---- recorded traffic ----------------------------------------------

    def record_call(self, method: str, args: dict[str, Any], ok: bool, error: str | None) -> None:
        self.calls.append(ApiCall(method, args, ok, error, time.monotonic()))
        self.changed()

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def describe(self) -> str:
        """A short summary of recent traffic, for timeout messages."""
        recent = ", ".join(f"{c.method}:{'ok' if c.ok else c.error}" for c in self.calls[-8:])
        return f"last API calls: [{recent}]"

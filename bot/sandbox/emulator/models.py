"""Plain data records shared by the emulator modules.

Kept free of behaviour so tests and the sandbox can import them without
pulling in aiohttp, and so every module agrees on one shape per concept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]


class NotDelivered(LookupError):
    """Slack would not send this to the app: the manifest does not subscribe to the event,
    declare the command or enable interactivity."""


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the emulator saw it (token stripped from args)."""

    method: str
    args: JSONDict
    ok: bool
    error: str | None
    at: float  # time.monotonic() when the request was answered


@dataclass(frozen=True)
class Ack:
    """A Socket Mode acknowledgement; payload is set only when ack() had content."""

    envelope_id: str
    payload: JSONDict | None


@dataclass
class CommandResult:
    """Outcome of a slash command or click.

    `responses` is live: it keeps filling as the app POSTs to the response_url,
    so tests can `wait_for(lambda: res.responses)`.
    """

    ack_payload: JSONDict | None
    responses: list[JSONDict]
    envelope_id: str = ""
    url_id: str = ""


@dataclass
class User:
    """A workspace member (human or bot)."""

    id: str
    name: str
    is_bot: bool = False
    real_name: str = ""

    def to_api(self, team_id: str) -> JSONDict:
        """Render like users.info does."""
        real_name = self.real_name or self.name
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": real_name,
            "deleted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": {
                "display_name": self.name,
                "real_name": real_name,
                "image_72": f"https://avatars.example.slack-edge.com/{self.id}_72.png",
            },
        }


@dataclass
class Channel:
    """A conversation: public/private channel or a DM between the bot and `user`."""

    id: str
    name: str
    is_im: bool = False
    is_private: bool = False
    user: str | None = None  # the other party, for DMs
    is_member: bool = True  # whether the bot is in the channel
    created: int = 0

    @property
    def kind(self) -> str:
        """Its type as conversations.list names types (and scopes follow)."""
        if self.is_im:
            return "im"
        return "private_channel" if self.is_private else "public_channel"

    def to_api(self) -> JSONDict:
        """Render like conversations.info / conversations.list do."""
        data: JSONDict = {
            "id": self.id,
            "created": self.created,
            "is_channel": not self.is_im and not self.is_private,
            "is_group": self.is_private,
            "is_im": self.is_im,
            "is_mpim": False,
            "is_private": self.is_private or self.is_im,
            "is_archived": False,
            "is_member": self.is_member,
        }
        if self.is_im:
            data["user"] = self.user
        else:
            data["name"] = self.name
        return data


@dataclass
class Usergroup:
    """A user group (handle like @support-agents) and its members."""

    id: str
    handle: str
    users: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Fault:
    """One injected failure for the next call of a Web API method."""

    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    drop: bool = False


@dataclass
class UploadedFile:
    """A file announced by files.getUploadURLExternal.

    `content` stays None until the bytes are POSTed to the upload URL; `length`
    is what the client declared (Slack is lenient, so it may differ from `size`).
    `channels` and `thread_ts` are filled in by files.completeUploadExternal.
    """

    id: str
    name: str
    length: int
    upload_key: str
    created: int
    title: str = ""
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    thread_ts: str | None = None
    share_ts: list[str] = field(default_factory=list)  # ts of its file_share messages
    owner: str | None = None  # the person who uploaded it; None: the bot

    @property
    def size(self) -> int:
        """Bytes actually received (0 before the upload)."""
        return len(self.content or b"")

    @property
    def channel(self) -> str | None:
        """The first channel the file was shared into, if any."""
        return self.channels[0] if self.channels else None

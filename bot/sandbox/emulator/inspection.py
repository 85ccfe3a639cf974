"""Read-only views of what the app did, plus `wait_for`.

Split from the facade to keep it small; SlackEmulator inherits these.
Lists are live (not copies) unless noted, so predicates can watch them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from bot.sandbox.emulator.models import Ack, ApiCall, JSONDict, UploadedFile
from bot.sandbox.emulator.socket_mode import SocketHub
from bot.sandbox.emulator.state import Workspace

T = TypeVar("T")


class Inspection:
    """Inspection API of SlackEmulator."""

    workspace: Workspace
    hub: SocketHub

    @property
    def calls(self) -> list[ApiCall]:
        return self.workspace.calls

    def calls_to(self, method: str) -> list[ApiCall]:
        return self.workspace.calls_to(method)

    @property
    def modals(self) -> dict[str, JSONDict]:
        """The modals open now, by view id (each with its `user`)."""
        return self.workspace.modals

    def messages(self, channel: str) -> list[JSONDict]:
        return self.workspace.messages(channel)

    def replies(self, channel: str, thread_ts: str) -> list[JSONDict]:
        return self.workspace.replies(channel, thread_ts)

    def get_message(self, channel: str, ts: str) -> JSONDict | None:
        return self.workspace.get_message(channel, ts)

    @property
    def ephemerals(self) -> list[JSONDict]:
        return self.workspace.ephemerals

    @property
    def responses(self) -> list[JSONDict]:
        return self.workspace.responses

    @property
    def views(self) -> dict[str, JSONDict]:
        return self.workspace.views

    def files(self) -> list[UploadedFile]:
        """Every file announced via files.getUploadURLExternal, oldest first (a copy):
        `content` holds the uploaded bytes, `channels`/`thread_ts` where it was shared."""
        return list(self.workspace.files.values())

    def file(self, file_id: str) -> UploadedFile | None:
        return self.workspace.files.get(file_id)

    @property
    def acks(self) -> list[Ack]:
        """Every ack received, in arrival order (echo envelopes included)."""
        return self.hub.acks

    @property
    def envelopes(self) -> list[JSONDict]:
        """Every envelope sent, in order (echo envelopes included)."""
        return self.hub.envelopes

    @property
    def connections_total(self) -> int:
        """How many socket connections were ever accepted (grows on reconnect)."""
        return self.hub.connections_total

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 15.0) -> T:  # noqa: ASYNC109
        """First truthy predicate() value, re-checked on every state change.

        The default bound is generous on purpose: it only costs time when a test fails, and a
        loaded CI machine can take several seconds between a message and the bot's answer.
        """
        return await self.workspace.signal.wait_for(predicate, timeout, self.workspace.describe)

"""Local Slack emulator (Web API + Socket Mode) for end-to-end tests and sandbox mode.

The real slack_bolt AsyncApp + AsyncSocketModeHandler connect to it exactly
as to Slack, so the product is exercised without a network or a workspace.
"""

from bot.sandbox.emulator.manifest import AppManifest
from bot.sandbox.emulator.models import (
    Ack,
    ApiCall,
    Channel,
    CommandResult,
    NotDelivered,
    UploadedFile,
    User,
    Usergroup,
)
from bot.sandbox.emulator.server import SlackEmulator

__all__ = [
    "Ack",
    "ApiCall",
    "AppManifest",
    "Channel",
    "CommandResult",
    "NotDelivered",
    "SlackEmulator",
    "UploadedFile",
    "User",
    "Usergroup",
]

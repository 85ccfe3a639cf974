"""What the Slack listeners need, built once by `bot.runtime`."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.slack.people import People
from handlers.slack.routing import Channels
from services.cases import CaseService
from services.mailbox import MailboxState


@dataclass(frozen=True)
class SlackDeps:
    cases: CaseService
    people: People
    channels: Channels
    mailbox: MailboxState

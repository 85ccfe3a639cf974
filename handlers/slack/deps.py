"""What the Slack listeners need, built once by `bot.runtime`."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.slack.files import SlackFiles
from handlers.slack.home import HomePublisher
from handlers.slack.people import People
from handlers.slack.routing import Channels
from services.api_reads import ApiReads
from services.cases import CaseService
from services.mailbox import MailboxState
from services.reports import ReportService
from services.routing import AgentDirectory


@dataclass(frozen=True)
class SlackDeps:
    cases: CaseService
    people: People
    channels: Channels
    mailbox: MailboxState
    agents: AgentDirectory | None = None  # routing profiles; None without triage
    home: HomePublisher | None = None  # App Home tabs
    reports: ReportService | None = None  # `/case report`
    desk: ApiReads | None = None  # `/case stats`
    case_reaction: str = "ticket"  # CASE_REACTION: the emoji that opens a case from a message
    files: SlackFiles | None = None  # fetches the files people share (None: files are listed)

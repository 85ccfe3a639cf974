"""Plain domain types that edges build and services take: no storage or library types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.models import Case, Customer


class Channel(StrEnum):
    """Where a case's customer wrote from, and so where they are answered.

    Stored as `Case.source` and `Message.source`; the outbox stores the channel a row goes
    out on. API customers (native, incidents, tickets) are answered the webhook's way.
    """

    SLACK = "slack"
    EMAIL = "email"
    WEBHOOK = "webhook"
    API = "api"
    STORM = "storm"  # a master incident Casebot opened itself: no customer to answer
    TICKETS = "tickets"  # the external ticket system (TICKET_API_URL): an outbox channel only


@dataclass(frozen=True)
class CustomerIdentity:
    """Who wrote, as the channel knows them (one identity per channel)."""

    name: str = ""
    slack_user_id: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class IncomingAttachment:
    """A file that came with a message; `content` is None when it was not kept (`refused`
    says why, when known)."""

    filename: str
    content_type: str
    size: int
    content: bytes | None = None
    refused: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message from any channel; `(source, external_id)` identifies it."""

    source: str
    external_id: str
    body: str
    customer: CustomerIdentity
    origin_channel: str | None = None
    origin_thread_ts: str | None = None
    subject: str | None = None
    # Threading hints from email: a `[Case #N]` tag, and the Message-IDs it answers.
    case_number: int | None = None
    references: tuple[str, ...] = ()
    # False for auto-replies, bounces and list mail: never answer a robot (mail loops).
    allow_auto_reply: bool = True
    attachments: tuple[IncomingAttachment, ...] = ()
    # Email: our receiving server (TRUSTED_AUTHSERV_ID) vouched for the From domain (DMARC).
    # A forged sender never has it, so only unvouched senders count against a domain's cap.
    sender_authenticated: bool = False


@dataclass(frozen=True)
class ReplyVoice:
    """Whose name an agent's reply goes out under: the agent's with the team's, or the team's
    only (REPLIES_SHOW_AGENT=false), on every channel."""

    team: str = "Support"
    show_agent: bool = True

    def sender(self, agent: str) -> str:
        """`Agnes (Acme Support)`, or `Acme Support`."""
        return f"{agent} ({self.team})" if self.show_agent and agent else self.team

    def signature(self, agent: str) -> str:
        """The lines that end a reply by mail or SMS."""
        return f"{agent}\n{self.team}" if self.show_agent and agent else self.team


TEAM_VOICE = ReplyVoice()  # the default: "Agnes (Support)"


@dataclass(frozen=True)
class Actor:
    """Whoever asks for a change; `is_agent` is decided by the edge from configuration."""

    id: str
    name: str = ""
    is_agent: bool = False

    @property
    def label(self) -> str:
        return self.name or self.id


# Actor ids of API tokens (`api:<token name>`): agents that are not Slack users.
API_ACTOR_PREFIX = "api:"

SYSTEM = Actor(id="casebot", name="Casebot", is_agent=True)


@dataclass(frozen=True)
class IngestResult:
    case: Case
    created: bool
    duplicate: bool = False
    reopened: bool = False
    escalated: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReplyResult:
    case: Case
    internal: bool
    closed: bool = False
    duplicate: bool = False
    sends_at: datetime | None = None  # held for the undo window until then; None: at once


class ReplyChange(StrEnum):
    """What became of an agent's attempt to withdraw or edit a reply in its undo window."""

    WITHDRAWN = "withdrawn"  # nothing reached the customer
    EDITED = "edited"  # the customer will get the new text
    TOO_LATE = "too_late"  # it had gone (or was going) already
    UNKNOWN = "unknown"  # not a reply to a customer (a note, another thread)


@dataclass(frozen=True)
class CaseView:
    """What a card or a listing shows about one case."""

    case: Case
    customer: Customer
    last_customer_message: str
    affected: tuple[Customer, ...] = ()  # a master incident's customers

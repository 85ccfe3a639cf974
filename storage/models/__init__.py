"""The tables. Times are timezone-aware UTC; enums are stored as their string values."""

from storage.models.assist import CaseSummary, ReplyHistory
from storage.models.cases import Attachment, Case, Customer, Message
from storage.models.common import (
    LOCAL_TICKET_PREFIX,
    CaseStatus,
    Direction,
    OutboxStatus,
    empty_list,
    utcnow,
)
from storage.models.coordination import Lease, ProcessedEvent
from storage.models.delivery import AuditEvent, EventCounter, OutboxItem
from storage.models.mail import MailCursor, QuarantinedMessage, SentEmail
from storage.models.ratings import Rating
from storage.models.reports import Report, SubmittedTicket, TicketIntakeStatus
from storage.models.triage import Agent, CaseEmbedding, LabelledExample

__all__ = [
    "LOCAL_TICKET_PREFIX",
    "Agent",
    "Attachment",
    "AuditEvent",
    "Case",
    "CaseEmbedding",
    "CaseStatus",
    "CaseSummary",
    "Customer",
    "Direction",
    "EventCounter",
    "LabelledExample",
    "Lease",
    "MailCursor",
    "Message",
    "OutboxItem",
    "OutboxStatus",
    "ProcessedEvent",
    "QuarantinedMessage",
    "Rating",
    "ReplyHistory",
    "Report",
    "SentEmail",
    "SubmittedTicket",
    "TicketIntakeStatus",
    "empty_list",
    "utcnow",
]

"""The mailbox's cursor, quarantined messages and the mail we sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary
from sqlmodel import Field, SQLModel

from storage.models.common import (
    utcnow,
)
from storage.types import UTCDateTime


class MailCursor(SQLModel, table=True):
    """How far a mailbox has been read: UIDs are only meaningful within one UIDVALIDITY."""

    __tablename__ = "mail_cursors"

    mailbox: str = Field(primary_key=True, max_length=320)
    uidvalidity: int = Field(sa_type=BigInteger)
    last_uid: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QuarantinedMessage(SQLModel, table=True):
    """Input that could not become a case message, kept raw with the reason; never dropped."""

    __tablename__ = "quarantine"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)
    reason: str = Field(max_length=500)
    raw: bytes = Field(sa_type=LargeBinary)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SentEmail(SQLModel, table=True):
    """Mail we sent: customer replies and bounces find their case by its Message-ID, and the
    hourly cap on automatic mail counts these rows."""

    __tablename__ = "sent_emails"
    __table_args__ = (
        Index("ix_sent_emails_recipient_sent", "recipient", "sent_at"),
        Index("ix_sent_emails_capped_sent", "capped_as", "sent_at"),
        Index("ix_sent_emails_domain_sent", "domain", "sent_at"),
        Index("ix_sent_emails_sent", "sent_at"),
    )

    message_id: str = Field(primary_key=True, max_length=255)
    case_id: int = Field(foreign_key="cases.id", index=True)
    recipient: str = Field(max_length=320)
    capped_as: str | None = Field(default=None, max_length=320)  # carol+x@ counts as carol@
    domain: str | None = Field(default=None, max_length=255)
    kind: str = Field(max_length=64)
    automatic: bool = False
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""What customers thought: one rating (1-5) per case, asked for once when it is resolved."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from storage.models.common import utcnow
from storage.types import UTCDateTime


def new_rating_token() -> str:
    """The secret in a rating link: whoever holds the mail may rate, nobody else can guess it."""
    return secrets.token_urlsafe(24)


class Rating(SQLModel, table=True):
    """Written when the customer is asked (`score` None until they answer); the token is the
    capability the mail's one-click links carry, Slack buttons check the clicking user."""

    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_rated_at", "rated_at"),)

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    token: str = Field(default_factory=new_rating_token, max_length=64)
    asked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    score: int | None = None
    comment: str | None = Field(default=None, max_length=2000)
    rated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

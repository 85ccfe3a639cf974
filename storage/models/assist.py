"""What agent assist keeps: each case's latest summary, until the case changes."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.common import utcnow
from storage.types import UTCDateTime


class CaseSummary(SQLModel, table=True):
    """A case's summary as last made; `key` names the messages it read (the newest id, how
    many, the latest edit or deletion), so a new or changed message makes it stale."""

    __tablename__ = "case_summaries"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    key: str = Field(max_length=120)
    text: str = Field(max_length=4000)
    source: str = Field(max_length=16)  # extract | claude
    made_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

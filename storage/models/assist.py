"""What agent assist keeps: each case's latest summary, until the case changes, and the
history of resolved cases that replies are suggested from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
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


class ReplyHistory(SQLModel, table=True):
    """A resolved case (or an imported help-desk row): what the customer asked and the reply
    that answered it, for suggesting replies to similar cases. `reply` keeps `{customer}`
    and `{case}` where the customer's name and the case number were; `vector` is `text`'s
    embedding, filled in once (None until then)."""

    __tablename__ = "reply_history"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    text: str
    reply: str
    label: str | None = Field(default=None, max_length=200)  # an import's label column
    request_type: str | None = Field(default=None, max_length=64)
    source: str = Field(max_length=16)  # case | import
    vector: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

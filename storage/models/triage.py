"""What triage learns from and remembers: labelled examples, case embeddings, agents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field, SQLModel

from storage.models.common import (
    empty_list,
    utcnow,
)
from storage.types import UTCDateTime


class LabelledExample(SQLModel, table=True):
    """A text with its request type: an agent's correction or imported help-desk history.

    The local classifier learns from these; `vector` is the text's embedding, kept so that a
    restart does not re-encode thousands of texts.
    """

    __tablename__ = "labelled_examples"

    id: int | None = Field(default=None, primary_key=True)
    text: str
    request_type: str = Field(max_length=64)
    sublabel: str | None = Field(default=None, max_length=200)
    source: str = Field(max_length=16)  # correction | import
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    actor: str = Field(default="", max_length=200)
    vector: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CaseEmbedding(SQLModel, table=True):
    """A case's embedding (of its first message), compared with new cases to fold storms."""

    __tablename__ = "case_embeddings"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    vector: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Agent(SQLModel, table=True):
    """A support agent's routing profile: skills (from the catalog) and how many cases at once.

    Who may act as an agent is still AGENT_USER_IDS / AGENT_USERGROUP; this only says who gets
    new cases routed to them.
    """

    __tablename__ = "agents"

    user_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=200)
    skills: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    capacity: int = 10
    active: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

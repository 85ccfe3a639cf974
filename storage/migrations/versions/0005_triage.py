"""triage: request type, confidence, source, reason and SLA on cases; labelled examples

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("request_type", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("triage_confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("triage_source", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("triage_reason", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("sla_due_at", storage.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("sla_alerted_at", storage.types.UTCDateTime(), nullable=True))
        batch.create_index(
            "ix_cases_sla_due", ["status", "sla_alerted_at", "sla_due_at"], unique=False
        )
    op.create_table(
        "labelled_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("request_type", sa.String(length=64), nullable=False),
        sa.Column("sublabel", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_labelled_examples_case_id", "labelled_examples", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_labelled_examples_case_id", table_name="labelled_examples")
    op.drop_table("labelled_examples")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_sla_due")
        for column in (
            "sla_alerted_at",
            "sla_due_at",
            "triage_reason",
            "triage_source",
            "triage_confidence",
            "request_type",
        ):
            batch.drop_column(column)

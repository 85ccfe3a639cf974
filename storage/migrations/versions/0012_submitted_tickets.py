"""submitted_tickets: tickets posted to POST /tickets, filed by a worker; outbox by case

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submitted_tickets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("held_until", storage.types.UTCDateTime(), nullable=True),
        sa.Column("held_by", sa.String(length=100), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("completed_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_submitted_tickets_due", "submitted_tickets", ["status", "held_until"], unique=False
    )
    # GET /api/notifications/{id} lists a case's deliveries.
    op.create_index("ix_outbox_case_id", "outbox", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_case_id", table_name="outbox")
    op.drop_index("ix_submitted_tickets_due", table_name="submitted_tickets")
    op.drop_table("submitted_tickets")

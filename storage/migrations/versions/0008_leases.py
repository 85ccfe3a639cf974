"""leases (process liveness, singletons), outbox.claimed_by, processed_events.holder

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("acquired_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
    op.create_index(
        "ix_outbox_pending_key",
        "outbox",
        ["ordering_key", "id"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    with op.batch_alter_table("processed_events") as batch:
        batch.add_column(
            sa.Column("holder", sa.String(length=100), nullable=False, server_default="")
        )
    op.create_index("ix_processed_events_received_at", "processed_events", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_events_received_at", table_name="processed_events")
    with op.batch_alter_table("processed_events") as batch:
        batch.drop_column("holder")
    op.drop_index("ix_outbox_pending_key", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_by")
    op.drop_table("leases")

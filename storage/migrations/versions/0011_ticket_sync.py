"""cases.ticket_id, cases.ticket_synced_at: the external ticket system's id for a case

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("ticket_id", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("ticket_synced_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("ticket_synced_at")
        batch.drop_column("ticket_id")

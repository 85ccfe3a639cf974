"""outbox.message_id (a reply's deliveries, to withdraw or edit them in the undo window), and
messages.edited_at / deleted_at (a message changed or withdrawn after it was stored)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("message_id", sa.Integer(), nullable=True))
    op.create_index("ix_outbox_message_id", "outbox", ["message_id"])
    op.add_column("messages", sa.Column("edited_at", storage.types.UTCDateTime(), nullable=True))
    op.add_column("messages", sa.Column("deleted_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "deleted_at")
    op.drop_column("messages", "edited_at")
    op.drop_index("ix_outbox_message_id", table_name="outbox")
    op.drop_column("outbox", "message_id")

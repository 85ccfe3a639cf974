"""outbox.channel: the channel a delivery goes out on, decided when the row is written

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rows written before this revision: the rule services.outbox.channel_for applies to new ones.
BACKFILL = """
UPDATE outbox SET channel = CASE
    WHEN kind = 'ticket.sync' THEN 'tickets'
    WHEN kind = 'report.email' THEN 'email'
    WHEN kind LIKE 'customer.%' THEN COALESCE(
        (SELECT CASE cases.source WHEN 'api' THEN 'webhook' ELSE cases.source END
           FROM cases WHERE cases.id = outbox.case_id),
        'slack')
    ELSE 'slack'
END
"""


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
    op.execute(BACKFILL)
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("channel", existing_type=sa.String(length=16), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("channel")

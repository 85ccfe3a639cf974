"""event_counters: running totals of audited events, for /metrics without scanning the log

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_counters",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "shard"),
    )
    # The totals so far, read once from what they count (storage/counters.py keeps them).
    reason = (
        "data->>'reason'"
        if op.get_bind().dialect.name == "postgresql"
        else "json_extract(data, '$.reason')"
    )
    op.execute(
        "INSERT INTO event_counters (name, shard, value) "
        "SELECT 'cases.closed', 0, count(*) FROM cases WHERE closed_at IS NOT NULL"
    )
    op.execute(
        "INSERT INTO event_counters (name, shard, value) "
        f"SELECT 'escalations:' || COALESCE({reason}, ''), 0, count(*) FROM audit_events "
        f"WHERE action = 'case.escalated' GROUP BY COALESCE({reason}, '')"
    )


def downgrade() -> None:
    op.drop_table("event_counters")

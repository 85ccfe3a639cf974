"""cases.nudge_checked_at, and the indexes the auto-close and nudge sweeps read through

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cases", sa.Column("nudge_checked_at", storage.types.UTCDateTime(), nullable=True)
    )
    op.create_index("ix_cases_auto_close", "cases", ["status", "resolved_at"])
    op.create_index("ix_cases_nudge_due", "cases", ["status", "last_agent_message_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_nudge_due", table_name="cases")
    op.drop_index("ix_cases_auto_close", table_name="cases")
    op.drop_column("cases", "nudge_checked_at")

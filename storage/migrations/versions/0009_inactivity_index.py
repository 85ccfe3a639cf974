"""cases: an index the inactivity sweep can seek on (not-yet-alerted active cases by age)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 22:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_inactivity_due",
        "cases",
        ["status", "inactivity_alerted_at", "last_customer_message_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_cases_inactivity_due", table_name="cases")

"""sent_emails: the address automatic mail is capped as (plus-tags dropped), its domain, and
indexes to count per address, per domain and in all in the last hour

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 17:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sent_emails") as batch:
        batch.add_column(sa.Column("capped_as", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("domain", sa.String(length=255), nullable=True))
    op.create_index("ix_sent_emails_capped_sent", "sent_emails", ["capped_as", "sent_at"])
    op.create_index("ix_sent_emails_domain_sent", "sent_emails", ["domain", "sent_at"])
    op.create_index("ix_sent_emails_sent", "sent_emails", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_sent_emails_sent", table_name="sent_emails")
    op.drop_index("ix_sent_emails_domain_sent", table_name="sent_emails")
    op.drop_index("ix_sent_emails_capped_sent", table_name="sent_emails")
    with op.batch_alter_table("sent_emails") as batch:
        batch.drop_column("domain")
        batch.drop_column("capped_as")

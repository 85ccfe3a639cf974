"""storm folding: case embeddings, master incidents, near-duplicate links

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("is_master", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("master_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch.create_index("ix_cases_master_id", ["master_id"], unique=False)
        batch.create_foreign_key("fk_cases_master_id", "cases", ["master_id"], ["id"])
        batch.create_foreign_key("fk_cases_duplicate_of", "cases", ["duplicate_of"], ["id"])
    op.create_table(
        "case_embeddings",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index(
        "ix_case_embeddings_created_at", "case_embeddings", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_case_embeddings_created_at", table_name="case_embeddings")
    op.drop_table("case_embeddings")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_duplicate_of", type_="foreignkey")
        batch.drop_constraint("fk_cases_master_id", type_="foreignkey")
        batch.drop_index("ix_cases_master_id")
        batch.drop_column("duplicate_of")
        batch.drop_column("master_id")
        batch.drop_column("is_master")

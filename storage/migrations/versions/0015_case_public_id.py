"""cases.public_id: a UUID per case, for clients of the incident service (incident_id)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 20:40:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 5_000


def upgrade() -> None:
    # A plain ADD COLUMN, nullable: SQLite can add a NOT NULL column only by rebuilding the
    # table, which other tables' foreign keys forbid. Every row gets a value all the same:
    # the old ones here, the new ones from the model's default.
    op.add_column("cases", sa.Column("public_id", sa.String(length=36), nullable=True))
    connection = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("public_id", sa.String))
    ids = [row[0] for row in connection.execute(sa.select(cases.c.id))]
    update = (
        sa.update(cases)
        .where(cases.c.id == sa.bindparam("case_id"))
        .values(public_id=sa.bindparam("uid"))
    )
    for start in range(0, len(ids), CHUNK):
        rows = [{"case_id": i, "uid": str(uuid.uuid4())} for i in ids[start : start + CHUNK]]
        connection.execute(update, rows)
    op.create_index("ix_cases_public_id", "cases", ["public_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_cases_public_id", table_name="cases")
    op.drop_column("cases", "public_id")

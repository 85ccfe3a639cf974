"""Storage: SQLModel tables, the async engine and session, queries and Alembic migrations."""

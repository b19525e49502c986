"""Schema: Alembic migrations and the tooling that governs them."""

"""Index sessions by creation.

Migration: 20261206052523_index_sessions_by_creation
Purpose: The purge ends sessions past their absolute lifetime (created_at +
  SESSION_ABSOLUTE_DAYS); without an index on created_at each of its batches scans every
  session.
Ticket: N/A
Reversible: Yes
Rollback:
  DROP INDEX ix_sessions_created_at;
Dependencies: sessions
Data Migration: None
"""

from alembic import op

revision = "20261206052523_index_sessions_by_creation"
down_revision = "20261206051137_backfill_screenname_skeletons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.create_index("ix_sessions_created_at", "sessions", ["created_at"],
                        postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_index("ix_sessions_created_at", table_name="sessions")

"""Index rate-limit windows by start, and blackouts by listing and nights.

Migration: 20261206074402_index_rate_limits_and_blackout_nights
Purpose: The purge deletes rate-limit windows older than a day, and the listings search with
  dates looks for blackouts overlapping them; without these indexes both read every row.
Ticket: N/A
Reversible: Yes
Rollback:
  DROP INDEX CONCURRENTLY IF EXISTS ix_rate_limit_windows_window_start;
  DROP INDEX CONCURRENTLY IF EXISTS ix_listing_blackouts_listing_nights;
Dependencies: rate_limit_windows, listing_blackouts, the btree_gist extension
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op

revision = "20261206074402_index_rate_limits_and_blackout_nights"
down_revision = "20261206071430_index_hot_queries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.create_index("ix_rate_limit_windows_window_start", "rate_limit_windows",
                        ["window_start"], postgresql_concurrently=True, if_not_exists=True)
        op.create_index("ix_listing_blackouts_listing_nights", "listing_blackouts",
                        ["listing_id", sa.text("daterange(start_date, end_date, '[)')")],
                        postgresql_using="gist", postgresql_concurrently=True,
                        if_not_exists=True)


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.drop_index("ix_listing_blackouts_listing_nights", table_name="listing_blackouts",
                      postgresql_concurrently=True, if_exists=True)
        op.drop_index("ix_rate_limit_windows_window_start", table_name="rate_limit_windows",
                      postgresql_concurrently=True, if_exists=True)

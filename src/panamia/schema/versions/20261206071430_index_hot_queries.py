"""Index hot queries.

Migration: 20261206071430_index_hot_queries
Purpose: The listings search filters on lower(city) and the sweep picks pending bookings
  oldest first; without these indexes each of them reads the whole table.
Ticket: N/A
Reversible: Yes
Rollback:
  DROP INDEX CONCURRENTLY IF EXISTS ix_listings_lower_city;
  DROP INDEX CONCURRENTLY IF EXISTS ix_bookings_pending_created_at;
Dependencies: listings, bookings
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op

revision = "20261206071430_index_hot_queries"
down_revision = "20261206071427_carry_request_ids_into_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.create_index("ix_listings_lower_city", "listings", [sa.text("lower(city)")],
                        postgresql_concurrently=True, if_not_exists=True)
        op.create_index("ix_bookings_pending_created_at", "bookings", ["created_at"],
                        postgresql_where=sa.text("status = 'pending'"),
                        postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.drop_index("ix_bookings_pending_created_at", table_name="bookings",
                      postgresql_concurrently=True, if_exists=True)
        op.drop_index("ix_listings_lower_city", table_name="listings",
                      postgresql_concurrently=True, if_exists=True)

"""Index rental items for browsing.

Migration: 20261206090029_index_rental_items_for_browsing
Purpose: Browsing rentals (GET /items) reads the available items newest first; without this
  index it reads and sorts every item.
Ticket: N/A
Reversible: Yes
Rollback:
  DROP INDEX CONCURRENTLY IF EXISTS ix_rental_items_available_created_at;
Dependencies: rental_items (20261206071425_add_rentals)
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op

revision = '20261206090029_index_rental_items_for_browsing'
down_revision = '20261206082541_guard_sidecar_money_on_account_deletion'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.create_index("ix_rental_items_available_created_at", "rental_items",
                        [sa.text("created_at DESC"), "id"], postgresql_where=sa.text("available"),
                        postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.drop_index("ix_rental_items_available_created_at", table_name="rental_items",
                      postgresql_concurrently=True, if_exists=True)

"""Scope idempotency keys by operation.

Migration: 20261206054343_scope_idempotency_keys_by_operation
Purpose: Every sidecar keeps its Idempotency-Key answers in the one idempotency_keys table: a
  key belongs to its user and its operation (scope), so the same key sent to two operations
  never meets. The keys kept so far were all for pet bookings.
Ticket: N/A
Reversible: Partial
Rollback:
  DELETE FROM idempotency_keys WHERE scope <> 'pets.bookings';
  ALTER TABLE idempotency_keys DROP CONSTRAINT pk_idempotency_keys;
  ALTER TABLE idempotency_keys ADD CONSTRAINT pk_idempotency_keys PRIMARY KEY (user_id, key);
  ALTER TABLE idempotency_keys DROP COLUMN scope;
Dependencies: idempotency_keys
Data Migration: Inline
"""

import sqlalchemy as sa
from alembic import op

revision = "20261206054343_scope_idempotency_keys_by_operation"
down_revision = "20261206052523_index_sessions_by_creation"
branch_labels = None
depends_on = None

TABLE = "idempotency_keys"


def _primary_key(columns: list[str]) -> None:
    """Swap the primary key for one on `columns`, its index built without blocking writes."""
    index = f"ix_{TABLE}_{'_'.join(columns)}"
    with op.get_context().autocommit_block():
        op.create_index(index, TABLE, columns, unique=True, postgresql_concurrently=True,
                        if_not_exists=True)
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("pk_idempotency_keys", TABLE, type_="primary")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT pk_idempotency_keys PRIMARY KEY "
               f"USING INDEX {index}")


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    # The default fills the rows there are without rewriting the table; new keys name theirs.
    op.add_column(TABLE, sa.Column("scope", sa.Text(), nullable=False,
                                   server_default="pets.bookings"))
    op.alter_column(TABLE, "scope", server_default=None)
    _primary_key(["user_id", "scope", "key"])


def downgrade() -> None:
    """Keys of operations other than pet bookings are deleted: they are answers kept for at
    most 24 hours, and without a scope they would collide."""
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f"DELETE FROM {TABLE} WHERE scope <> 'pets.bookings'")
    _primary_key(["user_id", "key"])
    op.drop_column(TABLE, "scope")

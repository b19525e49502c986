"""Carry request ids into outbox.

Migration: 20261206071427_carry_request_ids_into_outbox
Purpose: An outbox event keeps the id of the request that enqueued it (X-Request-ID), so the
  relay's log line for its delivery can be found from the request's own log lines. Events
  written before this, or outside a request, have none.
Ticket: N/A
Reversible: Yes
Rollback:
  ALTER TABLE outbox DROP COLUMN request_id;
Dependencies: outbox
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op

revision = "20261206071427_carry_request_ids_into_outbox"
down_revision = "20261206071425_add_rentals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    # Nullable without a default: a change of the catalog only, the table is not rewritten.
    op.add_column("outbox", sa.Column("request_id", sa.String(64), nullable=True))


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("outbox", "request_id")

"""The transactional outbox.

Migration: 20261125033736_add_outbox
Purpose: Changes that must reach MongoDB (notifications, a deleted user's content) are
  recorded as events in the same PostgreSQL transaction and relayed to MongoDB
  idempotently, since there are no cross-database transactions (seed: "accept eventual
  consistency").
Ticket: N/A
Reversible: Yes
Rollback:
  DROP TABLE outbox;
  Undelivered events are lost with it: run `panamia outbox status` first and let the
  relay drain the backlog.
Dependencies: 20261125033000_init_users_and_auth
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "20261125033736_add_outbox"
down_revision = "20261125033000_init_users_and_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        "ix_outbox_undelivered", "outbox", ["next_attempt_at", "created_at"],
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_index("ix_outbox_undelivered", table_name="outbox",
                  postgresql_where=sa.text("delivered_at IS NULL"))
    op.drop_table("outbox")

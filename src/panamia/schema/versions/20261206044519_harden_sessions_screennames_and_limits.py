"""Harden sessions, screennames and limits.

Migration: 20261206044519_harden_sessions_screennames_and_limits
Purpose: Sessions remember their device and last use (the list of signed-in devices, an
  absolute lifetime from created_at); screennames are unique by their confusable skeleton
  (Unicode TR39); sign-in mail is rate limited in a table every worker and replica shares;
  expired sessions and tokens and delivered outbox rows are purged through an index.
Ticket: N/A
Reversible: Yes
Rollback:
  DROP TABLE rate_limit_windows;
  DROP INDEX ix_outbox_delivered, ix_sessions_expires, ix_verification_tokens_expires;
  ALTER TABLE users DROP COLUMN screenname_skeleton;
  ALTER TABLE sessions DROP COLUMN user_agent, DROP COLUMN last_seen_at;
Dependencies: users, sessions, verification_tokens, outbox
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op

revision = "20261206044519_harden_sessions_screennames_and_limits"
down_revision = "20261125042617_refuse_deleting_users_with_active_bookings"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_outbox_delivered", "outbox", "delivered_at", "delivered_at IS NOT NULL"),
    ("ix_sessions_expires", "sessions", "expires", None),
    ("ix_verification_tokens_expires", "verification_tokens", "expires", None),
)


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "rate_limit_windows",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name="pk_rate_limit_windows"),
    )
    op.add_column("sessions", sa.Column("user_agent", sa.Text(), nullable=True))
    op.add_column("sessions", sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("screenname_skeleton", sa.Text(), nullable=True))
    with op.get_context().autocommit_block():
        for name, table, column, where in INDEXES:
            op.create_index(
                name, table, [column], postgresql_concurrently=True, if_not_exists=True,
                postgresql_where=sa.text(where) if where else None,
            )
        op.create_index(
            "uq_users_screenname_skeleton", "users", ["screenname_skeleton"], unique=True,
            postgresql_concurrently=True, if_not_exists=True,
        )
    op.execute("SET lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE users ADD CONSTRAINT uq_users_screenname_skeleton "
        "UNIQUE USING INDEX uq_users_screenname_skeleton"
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("uq_users_screenname_skeleton", "users", type_="unique")
    for name, table, _, _ in INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_column("users", "screenname_skeleton")
    op.drop_column("sessions", "last_seen_at")
    op.drop_column("sessions", "user_agent")
    op.drop_table("rate_limit_windows")

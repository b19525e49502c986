"""Add email notifications.

Migration: 20261206094530_add_email_notifications
Purpose: Members choose instant or daily email for what needs their action, and unsubscribe in one click
  (email_preferences: a member's choice and the day of their last digest;
  pending_notification_emails: notifications waiting for their mail;
  email_unsubscribe_tokens: the HMAC of each unsubscribe link sent). All three go with the
  member (ON DELETE CASCADE).
Ticket: N/A
Reversible: Yes
Rollback:
  DROP TABLE email_unsubscribe_tokens, pending_notification_emails, email_preferences;
Dependencies: users
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op

revision = '20261206094530_add_email_notifications'
down_revision = '20261206094527_add_booking_messages'
branch_labels = None
depends_on = None


def _member_column() -> sa.Column:
    return sa.Column("user_id", sa.String(32), nullable=False)


def _member_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                   onupdate="CASCADE", name=op.f(f"fk_{table}_user_id_users"))


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                     server_default=sa.func.now())


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "email_preferences",
        _member_column(),
        sa.Column("frequency", sa.Text, nullable=False, server_default="instant"),
        sa.Column("last_digest_on", sa.Date),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_email_preferences")),
        _member_key("email_preferences"),
        sa.CheckConstraint("frequency IN ('instant', 'daily', 'off')",
                           name=op.f("ck_email_preferences_frequency")),
    )
    op.create_table(
        "pending_notification_emails",
        sa.Column("notification_id", sa.String(64), nullable=False),
        _member_column(),
        _created_at(),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_pending_notification_emails")),
        _member_key("pending_notification_emails"),
    )
    op.create_table(
        "email_unsubscribe_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        _member_column(),
        _created_at(),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_email_unsubscribe_tokens")),
        _member_key("email_unsubscribe_tokens"),
    )
    for table in ("pending_notification_emails", "email_unsubscribe_tokens"):
        op.create_index(op.f(f"ix_{table}_user_id"), table, ["user_id"])
        op.create_index(op.f(f"ix_{table}_created_at"), table, ["created_at"])


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_table("email_unsubscribe_tokens")
    op.drop_table("pending_notification_emails")
    op.drop_table("email_preferences")

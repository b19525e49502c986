"""Add booking messages.

Migration: 20261206094527_add_booking_messages
Purpose: The two parties of a booking write to each other on it: booking_messages, a thread
  per booking read oldest first (index on booking and time). A message goes with its
  booking; a deleted author leaves the message, without a name (author_id set to null).
  Bodies are stored trimmed, from 1 to 2,000 characters.
Ticket: N/A
Reversible: Yes
Rollback:
  DROP TABLE booking_messages;
Dependencies: users, bookings (20261125034340_add_pet_sitting_tables)
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op

revision = '20261206094527_add_booking_messages'
down_revision = '20261206094524_add_follows_and_likes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "booking_messages",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("booking_id", sa.String(32), nullable=False),
        sa.Column("author_id", sa.String(32)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_messages")),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], ondelete="CASCADE",
                                name=op.f("fk_booking_messages_booking_id_bookings")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_booking_messages_author_id_users")),
        sa.CheckConstraint(
            "char_length(body) BETWEEN 1 AND 2000 AND body = btrim(body, E' \\t\\r\\n')",
            name=op.f("ck_booking_messages_body_trimmed_length")),
    )
    op.create_index("ix_booking_messages_booking_id_created_at", "booking_messages",
                    ["booking_id", "created_at"])
    op.create_index("ix_booking_messages_author_id", "booking_messages", ["author_id"])


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_table("booking_messages")

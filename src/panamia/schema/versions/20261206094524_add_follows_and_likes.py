"""Add follows and likes.

Migration: 20261206094524_add_follows_and_likes
Purpose: Members follow members and like articles; counts on profiles and articles.
  follows: one row per follower and followed member (unique), never oneself; a follow
  counts once it is 'accepted' (local follows are accepted at once; federation adds
  remote actors and 'pending' follows awaiting an answer). article_likes: one row per
  article (its MongoDB id) and member.
Ticket: N/A
Reversible: Yes
Rollback:
  DROP TABLE article_likes;
  DROP TABLE follows;
Dependencies: users
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op

revision = '20261206094524_add_follows_and_likes'
down_revision = '20261206090029_index_rental_items_for_browsing'
branch_labels = None
depends_on = None


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                     nullable=False)


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "follows",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("follower_id", sa.Text, nullable=False),
        sa.Column("followed_id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, server_default="accepted", nullable=False),
        _created_at(),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.ForeignKeyConstraint(["follower_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_follows_follower_id_users")),
        sa.ForeignKeyConstraint(["followed_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_follows_followed_id_users")),
        sa.UniqueConstraint("follower_id", "followed_id",
                            name="follows_follower_id_followed_id_key"),
        sa.CheckConstraint("state IN ('pending', 'accepted')",
                           name=op.f("ck_follows_state_known")),
        sa.CheckConstraint("follower_id <> followed_id", name=op.f("ck_follows_not_oneself")),
    )
    op.create_index(op.f("ix_follows_followed_id_state"), "follows", ["followed_id", "state"])

    op.create_table(
        "article_likes",
        sa.Column("article_id", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("article_id", "user_id", name=op.f("pk_article_likes")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_article_likes_user_id_users")),
    )
    op.create_index(op.f("ix_article_likes_user_id"), "article_likes", ["user_id"])


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_table("article_likes")
    op.drop_table("follows")

"""Add federation.

Migration: 20261206094534_add_federation
Purpose: Members and their articles on the fediverse (ActivityPub): remote_actors (people on
  other servers, with their keys and inboxes), actor_keys (each local actor's RSA key pair,
  the private key encrypted with a key derived from AUTH_SECRET), follows widened so that
  either side may be a remote actor (exactly one follower side and one followed side, the
  Follow's activity id unique), received_activities (replays ignored), deliveries (one row
  per activity and inbox, retried with backoff), remote_interactions (likes and boosts of
  articles), remote_comments (replies to articles), remote_articles (articles of followed
  remote actors), tombstones (removed objects answer 410) and domain_blocks.
Ticket: N/A
Reversible: Yes
Rollback:
  DROP the tables above; follows loses its remote columns (remote rows are deleted first).
Dependencies: users, follows
Data Migration: None
Lint-Allow: require-concurrent-index-creation because follows was created empty today, before any deployment
Lint-Allow: disallowed-unique-constraint because follows was created empty today, before any deployment
Lint-Allow: constraint-missing-not-valid because follows was created empty today, before any deployment
Lint-Allow: ban-drop-column because the downgrade removes only the columns this migration added
Lint-Allow: ban-drop-table because the downgrade removes only the tables this migration created
"""

import sqlalchemy as sa
from alembic import op

revision = '20261206094534_add_federation'
down_revision = '20261206094530_add_email_notifications'
branch_labels = None
depends_on = None

DELIVERY_STATES = "'pending', 'delivered', 'failed', 'given_up'"


def _now(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(),
                     nullable=False)


def _remote_actor(column: str, table: str, nullable: bool = False) -> list:
    return [
        sa.Column(column, sa.String(32), nullable=nullable),
        sa.ForeignKeyConstraint([column], ["remote_actors.id"], ondelete="CASCADE",
                                name=op.f(f"fk_{table}_{column}_remote_actors")),
    ]


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "remote_actors",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("inbox", sa.Text, nullable=False),
        sa.Column("shared_inbox", sa.Text),
        sa.Column("public_key_id", sa.Text, nullable=False),
        sa.Column("public_key_pem", sa.Text, nullable=False),
        sa.Column("preferred_username", sa.Text, nullable=False),
        sa.Column("domain", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("icon", sa.Text),
        sa.Column("url", sa.Text),
        _now("fetched_at"),
        sa.Column("gone_at", sa.DateTime(timezone=True)),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_actors")),
        sa.UniqueConstraint("uri", name=op.f("uq_remote_actors_uri")),
        sa.UniqueConstraint("public_key_id", name=op.f("uq_remote_actors_public_key_id")),
    )
    op.create_index(op.f("ix_remote_actors_domain"), "remote_actors", ["domain"])

    op.create_table(
        "actor_keys",
        # A user id, or "instance" for the server's own actor. No foreign key: the key of a
        # deleted account still signs the Delete of its actor, and says the actor is gone.
        sa.Column("actor_id", sa.String(32), nullable=False),
        sa.Column("public_key_pem", sa.Text, nullable=False),
        sa.Column("private_key_encrypted", sa.LargeBinary, nullable=False),
        sa.Column("approve_followers", sa.Boolean, server_default=sa.false(), nullable=False),
        _now("created_at"),
        sa.Column("gone_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("actor_id", name=op.f("pk_actor_keys")),
    )

    op.add_column("follows", sa.Column("follower_actor_id", sa.String(32)))
    op.add_column("follows", sa.Column("followed_actor_id", sa.String(32)))
    op.add_column("follows", sa.Column("activity_id", sa.Text))
    op.alter_column("follows", "follower_id", nullable=True)
    op.alter_column("follows", "followed_id", nullable=True)
    for column in ("follower_actor_id", "followed_actor_id"):
        op.create_foreign_key(op.f(f"fk_follows_{column}_remote_actors"), "follows",
                              "remote_actors", [column], ["id"], ondelete="CASCADE")
    op.create_check_constraint(op.f("ck_follows_one_follower"), "follows",
                               "(follower_id IS NULL) <> (follower_actor_id IS NULL)")
    op.create_check_constraint(op.f("ck_follows_one_followed"), "follows",
                               "(followed_id IS NULL) <> (followed_actor_id IS NULL)")
    op.create_check_constraint(op.f("ck_follows_a_local_side"), "follows",
                               "follower_id IS NOT NULL OR followed_id IS NOT NULL")
    op.create_unique_constraint(op.f("uq_follows_activity_id"), "follows", ["activity_id"])
    op.create_index("ix_follows_remote_follower_followed", "follows",
                    ["follower_actor_id", "followed_id"], unique=True,
                    postgresql_where=sa.text("follower_actor_id IS NOT NULL"))
    op.create_index("ix_follows_follower_remote_followed", "follows",
                    ["follower_id", "followed_actor_id"], unique=True,
                    postgresql_where=sa.text("followed_actor_id IS NOT NULL"))
    op.create_index("ix_follows_followed_actor_id", "follows", ["followed_actor_id"],
                    postgresql_where=sa.text("followed_actor_id IS NOT NULL"))

    op.create_table(
        "received_activities",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("actor_uri", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        _now("received_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_activities")),
    )
    op.create_index(op.f("ix_received_activities_received_at"), "received_activities",
                    ["received_at"])

    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("activity_id", sa.Text, nullable=False),
        sa.Column("inbox", sa.Text, nullable=False),
        sa.Column("domain", sa.Text, nullable=False),
        sa.Column("signer_id", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.Text, server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer, server_default="0", nullable=False),
        _now("next_attempt_at"),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.Text),
        _now("created_at"),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.ForeignKeyConstraint(["signer_id"], ["actor_keys.actor_id"], ondelete="CASCADE",
                                name=op.f("fk_deliveries_signer_id_actor_keys")),
        sa.UniqueConstraint("activity_id", "inbox", name=op.f("uq_deliveries_activity_id_inbox")),
        sa.CheckConstraint(f"state IN ({DELIVERY_STATES})", name=op.f("ck_deliveries_state_known")),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["next_attempt_at"],
                    postgresql_where=sa.text("state = 'pending'"))
    op.create_index(op.f("ix_deliveries_domain"), "deliveries", ["domain"])

    op.create_table(
        "remote_interactions",
        sa.Column("id", sa.String(32), nullable=False),
        *_remote_actor("actor_id", "remote_interactions"),
        sa.Column("article_id", sa.String(32), nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("activity_id", sa.Text, nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_interactions")),
        sa.UniqueConstraint("actor_id", "article_id", "type",
                            name=op.f("uq_remote_interactions_actor_id_article_id_type")),
        sa.UniqueConstraint("activity_id", name=op.f("uq_remote_interactions_activity_id")),
        sa.CheckConstraint("type IN ('Like', 'Announce')",
                           name=op.f("ck_remote_interactions_type_known")),
    )
    op.create_index(op.f("ix_remote_interactions_article_id"), "remote_interactions",
                    ["article_id"])

    op.create_table(
        "remote_comments",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        *_remote_actor("actor_id", "remote_comments"),
        sa.Column("article_id", sa.String(32), nullable=False),
        sa.Column("content_html", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_comments")),
        sa.UniqueConstraint("uri", name=op.f("uq_remote_comments_uri")),
    )
    op.create_index(op.f("ix_remote_comments_article_id"), "remote_comments", ["article_id"])

    op.create_table(
        "remote_articles",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        *_remote_actor("actor_id", "remote_articles"),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("content_html", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True)),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_articles")),
        sa.UniqueConstraint("uri", name=op.f("uq_remote_articles_uri")),
    )
    op.create_index(op.f("ix_remote_articles_actor_id"), "remote_articles", ["actor_id"])

    op.create_table(
        "tombstones",
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("former_type", sa.Text, nullable=False),
        _now("deleted_at"),
        sa.PrimaryKeyConstraint("uri", name=op.f("pk_tombstones")),
    )

    op.create_table(
        "domain_blocks",
        sa.Column("domain", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("blocked_by", sa.String(32)),
        _now("created_at"),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_domain_blocks")),
        sa.ForeignKeyConstraint(["blocked_by"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_domain_blocks_blocked_by_users")),
        sa.CheckConstraint("domain ~ '^[a-z0-9.-]+(:[0-9]+)?$'",
                           name=op.f("ck_domain_blocks_domain_lowercase")),
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    for table in ("domain_blocks", "tombstones", "remote_articles", "remote_comments",
                  "remote_interactions", "deliveries", "received_activities"):
        op.drop_table(table)
    op.execute("DELETE FROM follows WHERE follower_id IS NULL OR followed_id IS NULL")
    op.drop_index("ix_follows_followed_actor_id", table_name="follows")
    op.drop_index("ix_follows_follower_remote_followed", table_name="follows")
    op.drop_index("ix_follows_remote_follower_followed", table_name="follows")
    for name in ("uq_follows_activity_id", "ck_follows_a_local_side", "ck_follows_one_followed",
                 "ck_follows_one_follower", "fk_follows_followed_actor_id_remote_actors",
                 "fk_follows_follower_actor_id_remote_actors"):
        op.drop_constraint(op.f(name), "follows")
    op.alter_column("follows", "followed_id", nullable=False)
    op.alter_column("follows", "follower_id", nullable=False)
    for column in ("activity_id", "followed_actor_id", "follower_actor_id"):
        op.drop_column("follows", column)
    op.drop_table("actor_keys")
    op.drop_table("remote_actors")

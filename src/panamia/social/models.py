"""Follows between members and likes of articles (migration 20261206094524)."""

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, new_id

ACCEPTED = "accepted"
STATES = ("pending", ACCEPTED)


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Follow(Base):
    """One member following another. Only 'accepted' follows count; a local follow is
    accepted at once."""

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("follower_id", "followed_id", name="follows_follower_id_followed_id_key"),
        CheckConstraint(f"state IN {STATES}", name="state_known"),
        CheckConstraint("follower_id <> followed_id", name="not_oneself"),
        Index("ix_follows_followed_id_state", "followed_id", "state"),
        CheckConstraint("(follower_id IS NULL) <> (follower_actor_id IS NULL)",
                        name="one_follower"),
        CheckConstraint("(followed_id IS NULL) <> (followed_actor_id IS NULL)",
                        name="one_followed"),
        CheckConstraint("follower_id IS NOT NULL OR followed_id IS NOT NULL",
                        name="a_local_side"),
        Index("ix_follows_remote_follower_followed", "follower_actor_id", "followed_id",
              unique=True, postgresql_where=text("follower_actor_id IS NOT NULL")),
        Index("ix_follows_follower_remote_followed", "follower_id", "followed_actor_id",
              unique=True, postgresql_where=text("followed_actor_id IS NOT NULL")),
        Index("ix_follows_followed_actor_id", "followed_actor_id",
              postgresql_where=text("followed_actor_id IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_id)
    # Exactly one follower side and one followed side: a member (user id) or a remote
    # actor (migration 20261206094534, federation).
    follower_id: Mapped[str | None] = mapped_column(
        Text, ForeignKey("users.id", ondelete="CASCADE"))
    followed_id: Mapped[str | None] = mapped_column(
        Text, ForeignKey("users.id", ondelete="CASCADE"))
    follower_actor_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("remote_actors.id", ondelete="CASCADE"))
    followed_actor_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("remote_actors.id", ondelete="CASCADE"))
    # The Follow activity's id, for a follow that crosses servers.
    activity_id: Mapped[str | None] = mapped_column(Text, unique=True)
    state: Mapped[str] = mapped_column(Text, nullable=False, default=ACCEPTED,
                                       server_default=ACCEPTED)
    created_at: Mapped[datetime] = _created_at()
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ArticleLike(Base):
    """A member's like of an article; `article_id` is the article's MongoDB id."""

    __tablename__ = "article_likes"

    article_id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = mapped_column(
        Text, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = _created_at()

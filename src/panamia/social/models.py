"""Follows between members and likes of articles (migration 20261206094524)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Text, UniqueConstraint, func
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
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_id)
    follower_id: Mapped[str] = mapped_column(
        Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    followed_id: Mapped[str] = mapped_column(
        Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
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

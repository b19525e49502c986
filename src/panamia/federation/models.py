"""Federation tables (migration 20261206094534). Follows, local and remote alike, are
`social.models.Follow`."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, new_id

INSTANCE = "instance"  # the actor_keys row of the server's own actor
PENDING, DELIVERED, FAILED, GIVEN_UP = "pending", "delivered", "failed", "given_up"
DELIVERY_STATES = (PENDING, DELIVERED, FAILED, GIVEN_UP)
INTERACTION_TYPES = ("Like", "Announce")


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def _remote_actor(**kw) -> Mapped[str]:
    return mapped_column(String(32), ForeignKey("remote_actors.id", ondelete="CASCADE"),
                         nullable=False, **kw)


class RemoteActor(Base):
    """Someone on another server, as their actor document last said."""

    __tablename__ = "remote_actors"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    uri: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    type: Mapped[str] = mapped_column(Text, nullable=False)
    inbox: Mapped[str] = mapped_column(Text, nullable=False)
    shared_inbox: Mapped[str | None] = mapped_column(Text)
    public_key_id: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    public_key_pem: Mapped[str] = mapped_column(Text, nullable=False)
    preferred_username: Mapped[str] = mapped_column(Text, nullable=False)
    domain: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    name: Mapped[str | None] = mapped_column(Text)
    icon: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = _now()
    gone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class ActorKey(Base):
    """A local actor's key pair: a member's (by user id) or the instance's. Kept after the
    account is deleted, to sign the Delete and to answer 410 for the actor."""

    __tablename__ = "actor_keys"

    actor_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    public_key_pem: Mapped[str] = mapped_column(Text, nullable=False)
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    approve_followers: Mapped[bool] = mapped_column(Boolean, server_default=false(),
                                                    nullable=False)
    created_at: Mapped[datetime] = _now()
    gone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReceivedActivity(Base):
    __tablename__ = "received_activities"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    actor_uri: Mapped[str] = mapped_column(Text, nullable=False)
    type: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True)


class Delivery(Base):
    """One activity to one inbox (a shared inbox once for all its followers)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox"),
        CheckConstraint(f"state IN ({', '.join(repr(s) for s in DELIVERY_STATES)})",
                        name="state_known"),
        Index("ix_deliveries_due", "next_attempt_at",
              postgresql_where=text("state = 'pending'")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    activity_id: Mapped[str] = mapped_column(Text, nullable=False)
    inbox: Mapped[str] = mapped_column(Text, nullable=False)
    domain: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    signer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("actor_keys.actor_id", ondelete="CASCADE"), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(Text, server_default=PENDING, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0", nullable=False)
    next_attempt_at: Mapped[datetime] = _now()
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RemoteInteraction(Base):
    """A remote actor's Like or Announce of an article."""

    __tablename__ = "remote_interactions"
    __table_args__ = (
        UniqueConstraint("actor_id", "article_id", "type"),
        CheckConstraint(f"type IN ({', '.join(repr(t) for t in INTERACTION_TYPES)})",
                        name="type_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    actor_id: Mapped[str] = _remote_actor()
    article_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    type: Mapped[str] = mapped_column(Text, nullable=False)
    activity_id: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    created_at: Mapped[datetime] = _now()


class RemoteComment(Base):
    """A Note from another server in reply to an article, its HTML sanitized."""

    __tablename__ = "remote_comments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    uri: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    actor_id: Mapped[str] = _remote_actor()
    article_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    content_html: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = _now()


class RemoteArticle(Base):
    """An article of a remote actor a member follows."""

    __tablename__ = "remote_articles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    uri: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    actor_id: Mapped[str] = _remote_actor(index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    summary: Mapped[str | None] = mapped_column(Text)
    content_html: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class Tombstone(Base):
    """An object of ours that was deleted: its URL answers 410 with a Tombstone."""

    __tablename__ = "tombstones"

    uri: Mapped[str] = mapped_column(Text, primary_key=True)
    former_type: Mapped[str] = mapped_column(Text, nullable=False)
    deleted_at: Mapped[datetime] = _now()


class DomainBlock(Base):
    """A remote domain (and its subdomains) whose deliveries are refused."""

    __tablename__ = "domain_blocks"
    __table_args__ = (
        CheckConstraint("domain ~ '^[a-z0-9.-]+(:[0-9]+)?$'", name="domain_lowercase"),
    )

    domain: Mapped[str] = mapped_column(Text, primary_key=True)
    reason: Mapped[str | None] = mapped_column(Text)
    blocked_by: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _now()

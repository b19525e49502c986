"""The Auth.js tables (seed: "Prisma Schema"), named as in its SQL, snake_case columns.

Prisma's `@default(cuid())` and `@updatedAt` live in its client, not the database, so ids
and timestamps are filled in here as well as by server defaults where that is possible.
"""

from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, Timestamped, new_id


class User(Timestamped, Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(Text, nullable=False)
    email_verified: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    name: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(Text)
    screenname: Mapped[str | None] = mapped_column(Text)
    # The screenname's confusable skeleton (Unicode TR39), unique so that a look-alike in
    # another script cannot pose as a taken name.
    screenname_skeleton: Mapped[str | None] = mapped_column(Text, unique=True)
    role: Mapped[str] = mapped_column(Text, nullable=False, default="user", server_default="user")


# Unique regardless of case: `Ana@x.org` and `ana@x.org` are one person, `Ana` and `ana` one name.
Index("uq_users_email_lower", func.lower(User.email), unique=True)
Index("uq_users_screenname_lower", func.lower(User.screenname), unique=True)


class Account(Timestamped, Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("provider", "provider_account_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE", onupdate="CASCADE"), nullable=False, index=True
    )
    type: Mapped[str] = mapped_column(Text, nullable=False)
    provider: Mapped[str] = mapped_column(Text, nullable=False)
    provider_account_id: Mapped[str] = mapped_column(Text, nullable=False)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    access_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[int | None] = mapped_column(Integer)
    token_type: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str | None] = mapped_column(Text)
    id_token: Mapped[str | None] = mapped_column(Text)
    session_state: Mapped[str | None] = mapped_column(Text)


class Session(Timestamped, Base):
    """A signed-in browser. `session_token` holds an HMAC of the cookie's value, never the value."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_token: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE", onupdate="CASCADE"), nullable=False, index=True
    )
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    # What the person sees in their list of signed-in devices; NULL for rows a Next.js app made.
    user_agent: Mapped[str | None] = mapped_column(Text)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# The purge finds sessions past their absolute lifetime by when they began.
Index("ix_sessions_created_at", Session.created_at)


class VerificationToken(Base):
    """A pending magic link; `token` is sha256(raw + AUTH_SECRET) as Auth.js stores it."""

    __tablename__ = "verification_tokens"
    __table_args__ = (
        PrimaryKeyConstraint("identifier", "token", name="pk_verification_tokens"),
        UniqueConstraint("token"),
    )

    identifier: Mapped[str] = mapped_column(Text, nullable=False)
    token: Mapped[str] = mapped_column(Text, nullable=False)
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)


class RateLimitWindow(Base):
    """Hits counted per key (e.g. `signin:email:<address>`) and fixed window, shared by every
    worker and replica because it lives in PostgreSQL; old windows are purged."""

    __tablename__ = "rate_limit_windows"
    __table_args__ = (
        PrimaryKeyConstraint("key", "window_start", name="pk_rate_limit_windows"),
    )

    key: Mapped[str] = mapped_column(Text, nullable=False)
    # indexed: the purge deletes windows by age
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                   index=True)
    hits: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

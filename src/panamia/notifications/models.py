"""Email about notifications, in PostgreSQL: each member's choice, the notifications still to
mail, and the hashed tokens of the one-click unsubscribe links already sent."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base

INSTANT, DAILY, OFF = "instant", "daily", "off"
FREQUENCIES = (INSTANT, DAILY, OFF)


def _member() -> Mapped[str]:
    return mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE",
                                                onupdate="CASCADE"), nullable=False, index=True)


class EmailPreference(Base):
    """A member without a row gets `instant` mail. `last_digest_on` is the UTC day of the last
    daily digest sent, so that one digest goes per day whichever worker sends it."""

    __tablename__ = "email_preferences"
    __table_args__ = (
        CheckConstraint("frequency IN ('instant', 'daily', 'off')", name="frequency"),
    )

    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE", onupdate="CASCADE"),
        primary_key=True)
    frequency: Mapped[str] = mapped_column(Text, nullable=False, server_default=INSTANT)
    last_digest_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class PendingEmail(Base):
    """A notification that needs the member's action, waiting for its instant mail or the
    member's next digest; the row goes once it is mailed."""

    __tablename__ = "pending_notification_emails"

    notification_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = _member()
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), index=True)


class UnsubscribeToken(Base):
    """The HMAC of a mail's unsubscribe token: it can only turn that member's mail off."""

    __tablename__ = "email_unsubscribe_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = _member()
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), index=True)

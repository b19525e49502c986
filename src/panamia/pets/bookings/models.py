"""Bookings. PostgreSQL itself refuses two active bookings of one listing whose nights overlap."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, Timestamped, new_id

STATUSES = ("pending", "confirmed", "declined", "cancelled", "completed", "expired")
ACTIVE_STATUSES = ("pending", "confirmed")
MAX_NIGHTS = 90


class Booking(Timestamped, Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # `[start, end)`: check-out day can be the next guest's check-in day. The CHECK on the
        # dates matters: an empty range `[d, d)` overlaps nothing and would slip past.
        ExcludeConstraint(
            ("listing_id", "="),
            (func.daterange(text("start_date"), text("end_date"), "[)"), "&&"),
            name="ex_bookings_no_overlap",
            using="gist",
            where=text("status IN ('pending', 'confirmed')"),
        ),
        CheckConstraint("end_date > start_date", name="dates_ordered"),
        CheckConstraint(f"end_date - start_date <= {MAX_NIGHTS}", name="max_nights"),
        CheckConstraint("owner_id <> sitter_id", name="not_own_listing"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="status_known"
        ),
        CheckConstraint("total_price >= 0", name="total_not_negative"),
        ForeignKeyConstraint(
            ["listing_id", "sitter_id"], ["listings.id", "listings.sitter_id"],
            name="fk_bookings_listing_sitter", ondelete="CASCADE",
        ),
        # Lets a review prove, by foreign key, that its author owned the booking.
        UniqueConstraint("id", "owner_id", name="uq_bookings_id_owner_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    owner_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sitter_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(
        Text, nullable=False, default="pending", server_default="pending"
    )
    total_price: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    pets: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    note: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    declined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class IdempotencyKey(Base):
    """A client's `Idempotency-Key`, scoped to its user, with the first answer it got."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),)

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    key: Mapped[str] = mapped_column(Text, nullable=False)
    request_hash: Mapped[str] = mapped_column(Text, nullable=False)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now() + interval '24 hours'"),
        nullable=False, index=True,
    )

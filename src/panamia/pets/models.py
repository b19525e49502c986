"""Bookings. PostgreSQL itself refuses two active bookings of one listing whose nights overlap.

Below the sub-packages: listings read it for availability, reviews for the stay reviewed."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, Timestamped, new_id
from panamia.sidecar.reservations import reservation_constraints

STATUSES = ("pending", "confirmed", "declined", "cancelled", "completed", "expired")
ACTIVE_STATUSES = ("pending", "confirmed")
MAX_NIGHTS = 90


class Booking(Timestamped, Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # `[start, end)`: check-out day can be the next guest's check-in day.
        *reservation_constraints(
            "bookings", "listing_id", "start_date", "end_date", range_type="daterange",
            active_statuses=ACTIVE_STATUSES, name="ex_bookings_no_overlap",
            ordered="dates_ordered",
        ),
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
        # The sweep picks pending requests oldest first.
        Index("ix_bookings_pending_created_at", "created_at",
              postgresql_where=text("status = 'pending'")),
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


"""Things members lend for a fee, and their rentals. PostgreSQL itself refuses two active
rentals of one thing closer together than its turnaround buffer.

A rental holds `[starts_at, blocked_until)`, its time `[starts_at, ends_at)` widened by the
buffer at the end. The buffer cannot be added inside the exclusion constraint
(`timestamptz + interval` is not IMMUTABLE), so `blocked_until` is stored, and a CHECK ties
it to `ends_at` and the rental's own copy of the buffer.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, Timestamped, new_id
from panamia.sidecar.reservations import reservation_constraints

CATEGORIES = ("tools", "cameras", "party", "bikes", "rooms", "outdoors", "other")
PRICE_UNITS = ("hour", "day")
STATUSES = ("requested", "confirmed", "declined", "cancelled", "expired", "picked_up",
            "returned", "claimed", "disputed", "settled")
ACTIVE_STATUSES = ("requested", "confirmed", "picked_up")
MAX_BUFFER_MINUTES = 7 * 24 * 60
OVERLAP = "ex_rentals_no_overlap"


def _listed(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class RentalItem(Timestamped, Base):
    """A thing its owner lends: priced per hour or per day, in the owner's time zone."""

    __tablename__ = "rental_items"
    __table_args__ = (
        CheckConstraint(_listed("category", CATEGORIES), name="category_known"),
        CheckConstraint(_listed("price_unit", PRICE_UNITS), name="price_unit_known"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("deposit >= 0", name="deposit_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        CheckConstraint("min_units >= 1", name="min_units_positive"),
        CheckConstraint(f"buffer_minutes BETWEEN 0 AND {MAX_BUFFER_MINUTES}",
                        name="buffer_range"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 120", name="title_length"),
        # A rental proves by foreign key that its owner_id is the item's owner.
        UniqueConstraint("id", "owner_id", name="uq_rental_items_id_owner_id"),
        # Browsing: available items, newest first.
        Index("ix_rental_items_available_created_at", text("created_at DESC"), "id",
              postgresql_where=text("available")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text, nullable=False)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    price_unit: Mapped[str] = mapped_column(Text, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    min_units: Mapped[int] = mapped_column(Integer, nullable=False)
    buffer_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    deposit: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    timezone: Mapped[str] = mapped_column(Text, nullable=False)
    available: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=text("true")
    )


class Rental(Timestamped, Base):
    """One rental of an item: its time, what it costs, and where its money is."""

    __tablename__ = "rentals"
    __table_args__ = (
        *reservation_constraints(
            "rentals", "item_id", "starts_at", "blocked_until", range_type="tstzrange",
            active_statuses=ACTIVE_STATUSES, name=OVERLAP, ordered="blocked_after_start",
        ),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(f"buffer_minutes BETWEEN 0 AND {MAX_BUFFER_MINUTES}",
                        name="buffer_range"),
        CheckConstraint("blocked_until = ends_at + buffer_minutes * interval '1 minute'",
                        name="blocked_is_end_plus_buffer"),
        CheckConstraint("owner_id <> renter_id", name="not_own_item"),
        CheckConstraint(_listed("status", STATUSES), name="status_known"),
        CheckConstraint("fee > 0 AND deposit >= 0 AND hourly_rate > 0", name="amounts_positive"),
        CheckConstraint("late_fee >= 0 AND late_from_deposit BETWEEN 0 AND least(late_fee, "
                        "deposit)", name="late_fee_from_deposit"),
        CheckConstraint("claim_amount IS NULL OR claim_amount BETWEEN 0 AND "
                        "deposit - late_from_deposit", name="claim_within_deposit"),
        CheckConstraint("settled_amount IS NULL OR settled_amount BETWEEN 0 AND claim_amount",
                        name="settled_within_claim"),
        ForeignKeyConstraint(
            ["item_id", "owner_id"], ["rental_items.id", "rental_items.owner_id"],
            name="fk_rentals_item_owner", ondelete="RESTRICT",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    item_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    # Money was held for these people: their rows stay while the ledger refers to them.
    owner_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    renter_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    buffer_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    blocked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(
        Text, nullable=False, default="requested", server_default="requested"
    )
    fee: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    deposit: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    hourly_rate: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    late_fee: Mapped[Decimal] = mapped_column(
        Numeric(12, 2), nullable=False, default=Decimal(0), server_default="0"
    )
    late_from_deposit: Mapped[Decimal] = mapped_column(
        Numeric(12, 2), nullable=False, default=Decimal(0), server_default="0"
    )
    claim_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    claim_reason: Mapped[str | None] = mapped_column(Text)
    settled_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    note: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    declined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    picked_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disputed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

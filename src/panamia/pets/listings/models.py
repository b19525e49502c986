"""A sitter's offer, and the nights the sitter blocks."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, Timestamped, new_id

SERVICES = ("boarding", "house_sitting", "drop_in_visits", "dog_walking")
SPECIES = ("dog", "cat", "bird", "rabbit", "small_animal", "reptile", "fish", "other")


def _array_literal(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


class Listing(Timestamped, Base):
    __tablename__ = "listings"
    __table_args__ = (
        # Lets bookings prove, by foreign key, that their sitter is the listing's sitter.
        UniqueConstraint("id", "sitter_id", name="uq_listings_id_sitter_id"),
        CheckConstraint("price_per_day > 0", name="price_positive"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        CheckConstraint("max_pets BETWEEN 1 AND 20", name="max_pets_range"),
        CheckConstraint(
            f"cardinality(services) > 0 AND services <@ {_array_literal(SERVICES)}",
            name="services_known",
        ),
        CheckConstraint(
            f"cardinality(species) > 0 AND species <@ {_array_literal(SPECIES)}",
            name="species_known",
        ),
        CheckConstraint("char_length(title) BETWEEN 1 AND 120", name="title_length"),
        # The search matches the city regardless of case.
        Index("ix_listings_lower_city", func.lower(text("city"))),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    sitter_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    price_per_day: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    currency: Mapped[str] = mapped_column(
        String(3), nullable=False, default="USD", server_default="USD"
    )
    services: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    species: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    max_pets: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    city: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    zip: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(
        Text, nullable=False, default="America/New_York", server_default="America/New_York"
    )
    available: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=text("true")
    )


class ListingBlackout(Base):
    """Nights `[start_date, end_date)` the sitter does not take bookings."""

    __tablename__ = "listing_blackouts"
    __table_args__ = (
        CheckConstraint("end_date > start_date", name="dates_ordered"),
        # The search with dates looks for the blackouts of a listing overlapping them.
        Index("ix_listing_blackouts_listing_nights", "listing_id",
              text("daterange(start_date, end_date, '[)')"), postgresql_using="gist"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), nullable=False, index=True
    )
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

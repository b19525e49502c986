"""The exchange's tables: listings (the auction's state lives on its listing row), bids,
offers and transactions. Each invariant the database can hold is a constraint here, written
the same way by the migration `20261206071422_add_item_exchange`."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
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
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, Timestamped, new_id

KINDS = ("sale", "auction", "swap", "free")
CONDITIONS = ("new", "like_new", "good", "fair", "for_parts")
LISTING_STATUSES = ("open", "taken", "closed")
BID_STATUSES = ("leading", "outbid", "won", "lost")
OFFER_STATUSES = ("pending", "accepted", "declined", "withdrawn", "expired")
TRANSACTION_STATUSES = ("awaiting_payment", "paid", "handed_over", "completed", "cancelled",
                        "disputed", "refunded")
# A transaction in one of these no longer holds its listing: the listing may be taken again.
ENDED_TRANSACTION_STATUSES = ("cancelled", "refunded")
MAX_PHOTOS = 8


def one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def money() -> Numeric:
    return Numeric(12, 2)


def user_fk(**kwargs) -> ForeignKey:
    return ForeignKey("users.id", ondelete="CASCADE", **kwargs)


class ExchangeListing(Timestamped, Base):
    __tablename__ = "exchange_listings"
    __table_args__ = (
        # Lets offers and transactions prove, by foreign key, who the listing's seller is.
        UniqueConstraint("id", "seller_id", name="uq_exchange_listings_id_seller_id"),
        CheckConstraint(one_of("kind", KINDS), name="kind_known"),
        CheckConstraint(one_of("status", LISTING_STATUSES), name="status_known"),
        CheckConstraint(one_of("condition", CONDITIONS), name="condition_known"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 120", name="title_length"),
        CheckConstraint(f"cardinality(photos) <= {MAX_PHOTOS}", name="photos_count"),
        CheckConstraint("(kind = 'sale') = (price IS NOT NULL) AND (price IS NULL OR price > 0)",
                        name="sale_priced"),
        CheckConstraint("NOT open_to_offers OR kind = 'sale'", name="offers_on_sales"),
        CheckConstraint(
            "(kind = 'auction') = (start_price IS NOT NULL AND min_increment IS NOT NULL "
            "AND ends_at IS NOT NULL) AND (start_price IS NULL OR start_price > 0) "
            "AND (min_increment IS NULL OR min_increment > 0) "
            "AND (reserve_price IS NULL OR reserve_price >= start_price)",
            name="auction_terms"),
        CheckConstraint("(high_bid IS NULL) = (high_bidder_id IS NULL) "
                        "AND (high_bid IS NULL OR high_bid >= start_price)", name="high_bid"),
        CheckConstraint("high_bidder_id <> seller_id", name="not_own_auction"),
        Index("ix_exchange_listings_open_created_at", "created_at",
              postgresql_where=text("status = 'open'")),
        Index("ix_exchange_listings_auction_ends_at", "ends_at",
              postgresql_where=text("status = 'open' AND kind = 'auction'")),
        Index("ix_exchange_listings_lower_city", func.lower(text("city"))),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    seller_id: Mapped[str] = mapped_column(user_fk(), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    condition: Mapped[str] = mapped_column(Text, nullable=False)
    city: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    photos: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False,
                                              server_default=text("'{}'::text[]"))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, server_default="USD")
    price: Mapped[Decimal | None] = mapped_column(money())
    open_to_offers: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                                 server_default=text("false"))
    start_price: Mapped[Decimal | None] = mapped_column(money())
    reserve_price: Mapped[Decimal | None] = mapped_column(money())
    min_increment: Mapped[Decimal | None] = mapped_column(money())
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    high_bid: Mapped[Decimal | None] = mapped_column(money())
    high_bidder_id: Mapped[str | None] = mapped_column(user_fk(), index=True)
    bid_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="open")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ExchangeBid(Base):
    __tablename__ = "exchange_bids"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(one_of("status", BID_STATUSES), name="status_known"),
        # At most one bid of an auction holds the lead (and its bidder's money) at a time.
        Index("uq_exchange_bids_one_leading", "listing_id", unique=True,
              postgresql_where=text("status = 'leading'")),
        Index("ix_exchange_bids_listing_id_created_at", "listing_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(
        ForeignKey("exchange_listings.id", ondelete="CASCADE"), nullable=False)
    bidder_id: Mapped[str] = mapped_column(user_fk(), nullable=False, index=True)
    amount: Mapped[Decimal] = mapped_column(money(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())


class ExchangeOffer(Timestamped, Base):
    __tablename__ = "exchange_offers"
    __table_args__ = (
        ForeignKeyConstraint(["listing_id", "seller_id"],
                             ["exchange_listings.id", "exchange_listings.seller_id"],
                             name="fk_exchange_offers_listing_seller", ondelete="CASCADE"),
        CheckConstraint("buyer_id <> seller_id", name="not_own_listing"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        CheckConstraint("swap_listing_id IS NULL OR swap_listing_id <> listing_id",
                        name="not_swapped_for_itself"),
        CheckConstraint(one_of("status", OFFER_STATUSES), name="status_known"),
        # One open offer per member and listing: a new one replaces it only once it is answered.
        Index("uq_exchange_offers_one_pending", "listing_id", "buyer_id", unique=True,
              postgresql_where=text("status = 'pending'")),
        Index("ix_exchange_offers_pending_expires_at", "expires_at",
              postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    seller_id: Mapped[str] = mapped_column(user_fk(), nullable=False, index=True)
    buyer_id: Mapped[str] = mapped_column(user_fk(), nullable=False, index=True)
    amount: Mapped[Decimal | None] = mapped_column(money())
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    swap_listing_id: Mapped[str | None] = mapped_column(
        ForeignKey("exchange_listings.id", ondelete="CASCADE"), index=True)
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ExchangeTransaction(Timestamped, Base):
    __tablename__ = "exchange_transactions"
    __table_args__ = (
        ForeignKeyConstraint(["listing_id", "seller_id"],
                             ["exchange_listings.id", "exchange_listings.seller_id"],
                             name="fk_exchange_transactions_listing_seller", ondelete="CASCADE"),
        CheckConstraint("buyer_id <> seller_id", name="not_own_listing"),
        CheckConstraint(one_of("kind", KINDS), name="kind_known"),
        CheckConstraint(one_of("status", TRANSACTION_STATUSES), name="status_known"),
        CheckConstraint("price >= 0 AND fee >= 0 AND fee <= price", name="fee_within_price"),
        # A listing is in at most one transaction that is still going or done.
        Index("uq_exchange_transactions_one_live", "listing_id", unique=True,
              postgresql_where=text("status NOT IN ('cancelled', 'refunded')")),
        Index("ix_exchange_transactions_unpaid_pay_by", "pay_by",
              postgresql_where=text("status = 'awaiting_payment'")),
        Index("ix_exchange_transactions_handed_over_auto_complete_at", "auto_complete_at",
              postgresql_where=text("status = 'handed_over'")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    seller_id: Mapped[str] = mapped_column(user_fk(), nullable=False, index=True)
    buyer_id: Mapped[str] = mapped_column(user_fk(), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    offer_id: Mapped[str | None] = mapped_column(
        ForeignKey("exchange_offers.id", ondelete="SET NULL"))
    bid_id: Mapped[str | None] = mapped_column(
        ForeignKey("exchange_bids.id", ondelete="SET NULL"))
    price: Mapped[Decimal] = mapped_column(money(), nullable=False)
    fee: Mapped[Decimal] = mapped_column(money(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    pay_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    auto_complete_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handed_over_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    disputed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disputed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

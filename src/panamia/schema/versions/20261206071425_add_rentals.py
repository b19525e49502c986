"""Add rentals.

Migration: 20261206071425_add_rentals
Purpose: Members lend things for a fee (the rentals sidecar): rental_items, priced per hour
  or per day in the owner's time zone, and rentals, time ranges whose exclusion constraint
  covers each rental widened by the item's turnaround buffer ([starts_at, blocked_until)),
  so two active rentals of one item are never closer than the buffer.
Ticket: N/A
Reversible: Yes
Rollback:
  DROP TABLE rentals;
  DROP TABLE rental_items;
Dependencies: users
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op

from panamia.sidecar.reservations import create_reservation_constraint

revision = '20261206071425_add_rentals'
down_revision = '20261206071422_add_item_exchange'
branch_labels = None
depends_on = None

CATEGORIES = "'tools', 'cameras', 'party', 'bikes', 'rooms', 'outdoors', 'other'"
STATUSES = ("'requested', 'confirmed', 'declined', 'cancelled', 'expired', 'picked_up', "
            "'returned', 'claimed', 'disputed', 'settled'")
MAX_BUFFER_MINUTES = 7 * 24 * 60


def _timestamps() -> list[sa.Column]:
    return [sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(),
                      nullable=False) for name in ("created_at", "updated_at")]


def _stamps(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.DateTime(timezone=True)) for name in names]


def _amount(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.Numeric(12, 2), **kw)


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "rental_items",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.Column("price_unit", sa.Text, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("min_units", sa.Integer, nullable=False),
        sa.Column("buffer_minutes", sa.Integer, nullable=False),
        sa.Column("deposit", sa.Numeric(10, 2), nullable=False),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("available", sa.Boolean, server_default=sa.text("true"), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rental_items")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_rental_items_owner_id_users")),
        sa.UniqueConstraint("id", "owner_id", name="uq_rental_items_id_owner_id"),
        sa.CheckConstraint(f"category IN ({CATEGORIES})",
                           name=op.f("ck_rental_items_category_known")),
        sa.CheckConstraint("price_unit IN ('hour', 'day')",
                           name=op.f("ck_rental_items_price_unit_known")),
        sa.CheckConstraint("price > 0", name=op.f("ck_rental_items_price_positive")),
        sa.CheckConstraint("deposit >= 0", name=op.f("ck_rental_items_deposit_not_negative")),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_rental_items_currency_code")),
        sa.CheckConstraint("min_units >= 1", name=op.f("ck_rental_items_min_units_positive")),
        sa.CheckConstraint(f"buffer_minutes BETWEEN 0 AND {MAX_BUFFER_MINUTES}",
                           name=op.f("ck_rental_items_buffer_range")),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 120",
                           name=op.f("ck_rental_items_title_length")),
    )
    op.create_index(op.f("ix_rental_items_owner_id"), "rental_items", ["owner_id"])

    op.create_table(
        "rentals",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("renter_id", sa.String(32), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("buffer_minutes", sa.Integer, nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, server_default="requested", nullable=False),
        _amount("fee", nullable=False),
        _amount("deposit", nullable=False),
        _amount("hourly_rate", nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _amount("late_fee", server_default="0", nullable=False),
        _amount("late_from_deposit", server_default="0", nullable=False),
        _amount("claim_amount"),
        sa.Column("claim_reason", sa.Text),
        _amount("settled_amount"),
        sa.Column("note", sa.Text),
        *_stamps("confirmed_at", "declined_at", "cancelled_at"),
        sa.Column("cancelled_by", sa.String(32)),
        *_stamps("expired_at", "picked_up_at", "returned_at", "claimed_at", "disputed_at",
                 "settled_at"),
        sa.Column("settled_by", sa.String(32)),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rentals")),
        sa.ForeignKeyConstraint(["item_id", "owner_id"],
                                ["rental_items.id", "rental_items.owner_id"],
                                ondelete="RESTRICT", name="fk_rentals_item_owner"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="RESTRICT",
                                name=op.f("fk_rentals_owner_id_users")),
        sa.ForeignKeyConstraint(["renter_id"], ["users.id"], ondelete="RESTRICT",
                                name=op.f("fk_rentals_renter_id_users")),
        sa.ForeignKeyConstraint(["cancelled_by"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_rentals_cancelled_by_users")),
        sa.ForeignKeyConstraint(["settled_by"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_rentals_settled_by_users")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_rentals_ends_after_start")),
        sa.CheckConstraint(f"buffer_minutes BETWEEN 0 AND {MAX_BUFFER_MINUTES}",
                           name=op.f("ck_rentals_buffer_range")),
        sa.CheckConstraint("blocked_until = ends_at + buffer_minutes * interval '1 minute'",
                           name=op.f("ck_rentals_blocked_is_end_plus_buffer")),
        sa.CheckConstraint("owner_id <> renter_id", name=op.f("ck_rentals_not_own_item")),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_rentals_status_known")),
        sa.CheckConstraint("fee > 0 AND deposit >= 0 AND hourly_rate > 0",
                           name=op.f("ck_rentals_amounts_positive")),
        sa.CheckConstraint("late_fee >= 0 AND late_from_deposit BETWEEN 0 AND "
                           "least(late_fee, deposit)",
                           name=op.f("ck_rentals_late_fee_from_deposit")),
        sa.CheckConstraint("claim_amount IS NULL OR claim_amount BETWEEN 0 AND "
                           "deposit - late_from_deposit",
                           name=op.f("ck_rentals_claim_within_deposit")),
        sa.CheckConstraint("settled_amount IS NULL OR settled_amount BETWEEN 0 AND "
                           "claim_amount", name=op.f("ck_rentals_settled_within_claim")),
    )
    for column in ("item_id", "owner_id", "renter_id"):
        op.create_index(op.f(f"ix_rentals_{column}"), "rentals", [column])
    create_reservation_constraint(
        op, "rentals", "item_id", "starts_at", "blocked_until", range_type="tstzrange",
        active_statuses=("requested", "confirmed", "picked_up"), name="ex_rentals_no_overlap",
        ordered="blocked_after_start",
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_table("rentals")
    op.drop_table("rental_items")

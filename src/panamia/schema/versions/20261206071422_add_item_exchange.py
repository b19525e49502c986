"""Add item exchange.

Migration: 20261206071422_add_item_exchange
Purpose: The exchange sidecar keeps members' listings of things for sale, auction, swap or
  free, the bids on auctions (the auction's state on its listing row, so a bid is one
  conditional UPDATE), offers, and transactions with their timers, with real foreign keys to
  users; one leading bid per auction, one open offer per member and listing, and one live
  transaction per listing are unique indexes.
Ticket: N/A
Reversible: Yes
Rollback:
  DROP TABLE exchange_transactions, exchange_offers, exchange_bids, exchange_listings;
Dependencies: users (20261125033000_init_users_and_auth)
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op

revision = '20261206071422_add_item_exchange'
down_revision = '20261206071419_add_ledger'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table('exchange_listings',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('seller_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('condition', sa.Text(), nullable=False),
    sa.Column('city', sa.Text(), nullable=False),
    sa.Column('photos', sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='USD', nullable=False),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('open_to_offers', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('start_price', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('reserve_price', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('min_increment', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('high_bid', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('high_bidder_id', sa.String(length=32), nullable=True),
    sa.Column('bid_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('status', sa.Text(), server_default='open', nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind = 'auction') = (start_price IS NOT NULL AND min_increment IS NOT NULL AND ends_at IS NOT NULL) AND (start_price IS NULL OR start_price > 0) AND (min_increment IS NULL OR min_increment > 0) AND (reserve_price IS NULL OR reserve_price >= start_price)", name=op.f('ck_exchange_listings_auction_terms')),
    sa.CheckConstraint("(kind = 'sale') = (price IS NOT NULL) AND (price IS NULL OR price > 0)", name=op.f('ck_exchange_listings_sale_priced')),
    sa.CheckConstraint("NOT open_to_offers OR kind = 'sale'", name=op.f('ck_exchange_listings_offers_on_sales')),
    sa.CheckConstraint("condition IN ('new', 'like_new', 'good', 'fair', 'for_parts')", name=op.f('ck_exchange_listings_condition_known')),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_exchange_listings_currency_code')),
    sa.CheckConstraint("kind IN ('sale', 'auction', 'swap', 'free')", name=op.f('ck_exchange_listings_kind_known')),
    sa.CheckConstraint("status IN ('open', 'taken', 'closed')", name=op.f('ck_exchange_listings_status_known')),
    sa.CheckConstraint('(high_bid IS NULL) = (high_bidder_id IS NULL) AND (high_bid IS NULL OR high_bid >= start_price)', name=op.f('ck_exchange_listings_high_bid')),
    sa.CheckConstraint('cardinality(photos) <= 8', name=op.f('ck_exchange_listings_photos_count')),
    sa.CheckConstraint('char_length(title) BETWEEN 1 AND 120', name=op.f('ck_exchange_listings_title_length')),
    sa.CheckConstraint('high_bidder_id <> seller_id', name=op.f('ck_exchange_listings_not_own_auction')),
    sa.ForeignKeyConstraint(['high_bidder_id'], ['users.id'], name=op.f('fk_exchange_listings_high_bidder_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['users.id'], name=op.f('fk_exchange_listings_seller_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_listings')),
    sa.UniqueConstraint('id', 'seller_id', name='uq_exchange_listings_id_seller_id')
    )
    op.create_index('ix_exchange_listings_auction_ends_at', 'exchange_listings', ['ends_at'], unique=False, postgresql_where=sa.text("status = 'open' AND kind = 'auction'"))
    op.create_index(op.f('ix_exchange_listings_category'), 'exchange_listings', ['category'], unique=False)
    op.create_index(op.f('ix_exchange_listings_city'), 'exchange_listings', ['city'], unique=False)
    op.create_index(op.f('ix_exchange_listings_high_bidder_id'), 'exchange_listings', ['high_bidder_id'], unique=False)
    op.create_index('ix_exchange_listings_open_created_at', 'exchange_listings', ['created_at'], unique=False, postgresql_where=sa.text("status = 'open'"))
    op.create_index(op.f('ix_exchange_listings_seller_id'), 'exchange_listings', ['seller_id'], unique=False)
    op.create_table('exchange_bids',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('listing_id', sa.String(length=32), nullable=False),
    sa.Column('bidder_id', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('leading', 'outbid', 'won', 'lost')", name=op.f('ck_exchange_bids_status_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_exchange_bids_amount_positive')),
    sa.ForeignKeyConstraint(['bidder_id'], ['users.id'], name=op.f('fk_exchange_bids_bidder_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['listing_id'], ['exchange_listings.id'], name=op.f('fk_exchange_bids_listing_id_exchange_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_bids'))
    )
    op.create_index(op.f('ix_exchange_bids_bidder_id'), 'exchange_bids', ['bidder_id'], unique=False)
    op.create_index('ix_exchange_bids_listing_id_created_at', 'exchange_bids', ['listing_id', 'created_at'], unique=False)
    op.create_index('uq_exchange_bids_one_leading', 'exchange_bids', ['listing_id'], unique=True, postgresql_where=sa.text("status = 'leading'"))
    op.create_table('exchange_offers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('listing_id', sa.String(length=32), nullable=False),
    sa.Column('seller_id', sa.String(length=32), nullable=False),
    sa.Column('buyer_id', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('swap_listing_id', sa.String(length=32), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default='pending', nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'withdrawn', 'expired')", name=op.f('ck_exchange_offers_status_known')),
    sa.CheckConstraint('amount IS NULL OR amount > 0', name=op.f('ck_exchange_offers_amount_positive')),
    sa.CheckConstraint('buyer_id <> seller_id', name=op.f('ck_exchange_offers_not_own_listing')),
    sa.CheckConstraint('swap_listing_id IS NULL OR swap_listing_id <> listing_id', name=op.f('ck_exchange_offers_not_swapped_for_itself')),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_exchange_offers_buyer_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['listing_id', 'seller_id'], ['exchange_listings.id', 'exchange_listings.seller_id'], name='fk_exchange_offers_listing_seller', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['users.id'], name=op.f('fk_exchange_offers_seller_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['swap_listing_id'], ['exchange_listings.id'], name=op.f('fk_exchange_offers_swap_listing_id_exchange_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_offers'))
    )
    op.create_index(op.f('ix_exchange_offers_buyer_id'), 'exchange_offers', ['buyer_id'], unique=False)
    op.create_index(op.f('ix_exchange_offers_listing_id'), 'exchange_offers', ['listing_id'], unique=False)
    op.create_index('ix_exchange_offers_pending_expires_at', 'exchange_offers', ['expires_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index(op.f('ix_exchange_offers_seller_id'), 'exchange_offers', ['seller_id'], unique=False)
    op.create_index(op.f('ix_exchange_offers_swap_listing_id'), 'exchange_offers', ['swap_listing_id'], unique=False)
    op.create_index('uq_exchange_offers_one_pending', 'exchange_offers', ['listing_id', 'buyer_id'], unique=True, postgresql_where=sa.text("status = 'pending'"))
    op.create_table('exchange_transactions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('listing_id', sa.String(length=32), nullable=False),
    sa.Column('seller_id', sa.String(length=32), nullable=False),
    sa.Column('buyer_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('offer_id', sa.String(length=32), nullable=True),
    sa.Column('bid_id', sa.String(length=32), nullable=True),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('fee', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('pay_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('auto_complete_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handed_over_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=32), nullable=True),
    sa.Column('disputed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disputed_by', sa.String(length=32), nullable=True),
    sa.Column('dispute_reason', sa.Text(), nullable=True),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('sale', 'auction', 'swap', 'free')", name=op.f('ck_exchange_transactions_kind_known')),
    sa.CheckConstraint("status IN ('awaiting_payment', 'paid', 'handed_over', 'completed', 'cancelled', 'disputed', 'refunded')", name=op.f('ck_exchange_transactions_status_known')),
    sa.CheckConstraint('buyer_id <> seller_id', name=op.f('ck_exchange_transactions_not_own_listing')),
    sa.CheckConstraint('price >= 0 AND fee >= 0 AND fee <= price', name=op.f('ck_exchange_transactions_fee_within_price')),
    sa.ForeignKeyConstraint(['bid_id'], ['exchange_bids.id'], name=op.f('fk_exchange_transactions_bid_id_exchange_bids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_exchange_transactions_buyer_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cancelled_by'], ['users.id'], name=op.f('fk_exchange_transactions_cancelled_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['disputed_by'], ['users.id'], name=op.f('fk_exchange_transactions_disputed_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['listing_id', 'seller_id'], ['exchange_listings.id', 'exchange_listings.seller_id'], name='fk_exchange_transactions_listing_seller', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offer_id'], ['exchange_offers.id'], name=op.f('fk_exchange_transactions_offer_id_exchange_offers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_exchange_transactions_resolved_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['seller_id'], ['users.id'], name=op.f('fk_exchange_transactions_seller_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_transactions'))
    )
    op.create_index(op.f('ix_exchange_transactions_buyer_id'), 'exchange_transactions', ['buyer_id'], unique=False)
    op.create_index('ix_exchange_transactions_handed_over_auto_complete_at', 'exchange_transactions', ['auto_complete_at'], unique=False, postgresql_where=sa.text("status = 'handed_over'"))
    op.create_index(op.f('ix_exchange_transactions_listing_id'), 'exchange_transactions', ['listing_id'], unique=False)
    op.create_index(op.f('ix_exchange_transactions_seller_id'), 'exchange_transactions', ['seller_id'], unique=False)
    op.create_index('ix_exchange_transactions_unpaid_pay_by', 'exchange_transactions', ['pay_by'], unique=False, postgresql_where=sa.text("status = 'awaiting_payment'"))
    op.create_index('uq_exchange_transactions_one_live', 'exchange_transactions', ['listing_id'], unique=True, postgresql_where=sa.text("status NOT IN ('cancelled', 'refunded')"))


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    for table in ("exchange_transactions", "exchange_offers", "exchange_bids",
                  "exchange_listings"):
        op.drop_table(table)

"""Pet-sitting sidecar tables.

Migration: 20261125034340_add_pet_sitting_tables
Purpose: The pets sidecar keeps listings, blackouts, bookings, reviews and idempotency keys
  in PostgreSQL with real foreign keys to users (seed: "Sidecars Get Real Foreign Keys"), and
  an exclusion constraint makes two active bookings of one listing with overlapping nights
  impossible (seed: "Transactional Features Become Natural").
Ticket: N/A
Reversible: Yes
Rollback:
  DROP TABLE reviews, listing_blackouts, bookings, listings, idempotency_keys;
  The btree_gist extension stays: other schemas may use it.
Dependencies: users (20261125033000_init_users_and_auth)
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '20261125034340_add_pet_sitting_tables'
down_revision = '20261125033736_add_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    # The exclusion constraint compares listing ids (text) with `=` inside a GiST index.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('idempotency_keys',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('request_hash', sa.Text(), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), server_default=sa.text("now() + interval '24 hours'"), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'key', name='pk_idempotency_keys')
    )
    op.create_index(op.f('ix_idempotency_keys_expires_at'), 'idempotency_keys', ['expires_at'], unique=False)
    op.create_table('listings',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sitter_id', sa.String(length=32), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('price_per_day', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='USD', nullable=False),
    sa.Column('services', sa.ARRAY(sa.Text()), nullable=False),
    sa.Column('species', sa.ARRAY(sa.Text()), nullable=False),
    sa.Column('max_pets', sa.Integer(), server_default='1', nullable=False),
    sa.Column('city', sa.Text(), nullable=False),
    sa.Column('zip', sa.Text(), nullable=True),
    sa.Column('timezone', sa.Text(), server_default='America/New_York', nullable=False),
    sa.Column('available', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("cardinality(services) > 0 AND services <@ ARRAY['boarding', 'house_sitting', 'drop_in_visits', 'dog_walking']::text[]", name=op.f('ck_listings_services_known')),
    sa.CheckConstraint("cardinality(species) > 0 AND species <@ ARRAY['dog', 'cat', 'bird', 'rabbit', 'small_animal', 'reptile', 'fish', 'other']::text[]", name=op.f('ck_listings_species_known')),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_listings_currency_code')),
    sa.CheckConstraint('char_length(title) BETWEEN 1 AND 120', name=op.f('ck_listings_title_length')),
    sa.CheckConstraint('max_pets BETWEEN 1 AND 20', name=op.f('ck_listings_max_pets_range')),
    sa.CheckConstraint('price_per_day > 0', name=op.f('ck_listings_price_positive')),
    sa.ForeignKeyConstraint(['sitter_id'], ['users.id'], name=op.f('fk_listings_sitter_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listings')),
    sa.UniqueConstraint('id', 'sitter_id', name='uq_listings_id_sitter_id')
    )
    op.create_index(op.f('ix_listings_city'), 'listings', ['city'], unique=False)
    op.create_index(op.f('ix_listings_sitter_id'), 'listings', ['sitter_id'], unique=False)
    op.create_table('bookings',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('listing_id', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('sitter_id', sa.String(length=32), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Text(), server_default='pending', nullable=False),
    sa.Column('total_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('pets', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    postgresql.ExcludeConstraint((sa.column('listing_id'), '='), (sa.text("daterange(start_date, end_date, '[)')"), '&&'), where=sa.text("status IN ('pending', 'confirmed')"), using='gist', name='ex_bookings_no_overlap'),
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'declined', 'cancelled', 'completed', 'expired')", name=op.f('ck_bookings_status_known')),
    sa.CheckConstraint('end_date - start_date <= 90', name=op.f('ck_bookings_max_nights')),
    sa.CheckConstraint('end_date > start_date', name=op.f('ck_bookings_dates_ordered')),
    sa.CheckConstraint('owner_id <> sitter_id', name=op.f('ck_bookings_not_own_listing')),
    sa.CheckConstraint('total_price >= 0', name=op.f('ck_bookings_total_not_negative')),
    sa.ForeignKeyConstraint(['cancelled_by'], ['users.id'], name=op.f('fk_bookings_cancelled_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['listing_id', 'sitter_id'], ['listings.id', 'listings.sitter_id'], name='fk_bookings_listing_sitter', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_bookings_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sitter_id'], ['users.id'], name=op.f('fk_bookings_sitter_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('id', 'owner_id', name='uq_bookings_id_owner_id')
    )
    op.create_index(op.f('ix_bookings_listing_id'), 'bookings', ['listing_id'], unique=False)
    op.create_index(op.f('ix_bookings_owner_id'), 'bookings', ['owner_id'], unique=False)
    op.create_index(op.f('ix_bookings_sitter_id'), 'bookings', ['sitter_id'], unique=False)
    op.create_table('listing_blackouts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('listing_id', sa.String(length=32), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('end_date > start_date', name=op.f('ck_listing_blackouts_dates_ordered')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_blackouts_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_blackouts'))
    )
    op.create_index(op.f('ix_listing_blackouts_listing_id'), 'listing_blackouts', ['listing_id'], unique=False)
    op.create_table('reviews',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('booking_id', sa.String(length=32), nullable=False),
    sa.Column('author_id', sa.String(length=32), nullable=False),
    sa.Column('listing_id', sa.String(length=32), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_reviews_rating_range')),
    sa.ForeignKeyConstraint(['booking_id', 'author_id'], ['bookings.id', 'bookings.owner_id'], name='fk_reviews_booking_owner', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_reviews_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_reviews_booking_id'))
    )
    op.create_index(op.f('ix_reviews_listing_id'), 'reviews', ['listing_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_reviews_listing_id'), table_name='reviews')
    op.drop_table('reviews')
    op.drop_index(op.f('ix_listing_blackouts_listing_id'), table_name='listing_blackouts')
    op.drop_table('listing_blackouts')
    op.drop_index(op.f('ix_bookings_sitter_id'), table_name='bookings')
    op.drop_index(op.f('ix_bookings_owner_id'), table_name='bookings')
    op.drop_index(op.f('ix_bookings_listing_id'), table_name='bookings')
    op.drop_table('bookings')
    op.drop_index(op.f('ix_listings_sitter_id'), table_name='listings')
    op.drop_index(op.f('ix_listings_city'), table_name='listings')
    op.drop_table('listings')
    op.drop_index(op.f('ix_idempotency_keys_expires_at'), table_name='idempotency_keys')
    op.drop_table('idempotency_keys')

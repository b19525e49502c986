"""Guard sidecar money on account deletion.

Migration: 20261206082541_guard_sidecar_money_on_account_deletion
Purpose: Deleting a member cascades to their exchange listings, bids and transactions, and
  would leave escrowed money with nothing declaring it, or take another member's deal with
  it. PostgreSQL refuses deleting a user who has money or a deal in flight: a leading bid,
  a live exchange transaction, an open auction with bids, a confirmed, picked-up, claimed
  or disputed rental, or a non-zero ledger balance (available or held). The error's message
  says what blocks it, so account deletion (identity) can pass it on without knowing the
  sidecars. What is finished goes as the foreign keys say: the exchange history cascades,
  rentals keep theirs (RESTRICT, named in the message too); ledger accounts name their
  owner as text, so the journal is never touched. Also indexes exchange browsing by
  lower(city).
Ticket: N/A
Reversible: Yes
Rollback:
  DROP INDEX CONCURRENTLY IF EXISTS ix_exchange_listings_lower_city;
  DROP TRIGGER users_keep_money_in_flight ON users;
  DROP FUNCTION refuse_deleting_users_with_money_in_flight();
Dependencies: users, exchange_* (20261206071422), rentals (20261206071425),
  ledger_accounts (20261206071419)
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op

revision = '20261206082541_guard_sidecar_money_on_account_deletion'
down_revision = '20261206074402_index_rate_limits_and_blackout_nights'
branch_labels = None
depends_on = None

# Raised as a foreign-key violation named users_keep_money_in_flight (like the bookings
# trigger of 20261125042617); its message is the sentence shown to the member.
CREATE_FUNCTION = """
CREATE FUNCTION refuse_deleting_users_with_money_in_flight() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    blocking text[] := '{}';
BEGIN
    IF EXISTS (SELECT 1 FROM exchange_bids
                WHERE bidder_id = OLD.id AND status = 'leading') THEN
        blocking := blocking || 'a leading bid in an auction'::text;
    END IF;
    IF EXISTS (SELECT 1 FROM exchange_listings
                WHERE seller_id = OLD.id AND kind = 'auction' AND status = 'open'
                  AND bid_count > 0) THEN
        blocking := blocking || 'an open auction with bids'::text;
    END IF;
    IF EXISTS (SELECT 1 FROM exchange_transactions
                WHERE (buyer_id = OLD.id OR seller_id = OLD.id)
                  AND status IN ('awaiting_payment', 'paid', 'handed_over', 'disputed')) THEN
        blocking := blocking || 'an exchange purchase or sale not yet completed'::text;
    END IF;
    IF EXISTS (SELECT 1 FROM rentals
                WHERE (owner_id = OLD.id OR renter_id = OLD.id)
                  AND status IN ('confirmed', 'picked_up', 'claimed', 'disputed')) THEN
        blocking := blocking || 'a rental not yet settled'::text;
    ELSIF EXISTS (SELECT 1 FROM rentals WHERE owner_id = OLD.id OR renter_id = OLD.id) THEN
        -- Their foreign keys RESTRICT: said here, so that the member reads why.
        blocking := blocking || 'rentals on record, which are kept for the other member'::text;
    END IF;
    IF EXISTS (SELECT 1 FROM ledger_accounts
                WHERE ((kind = 'available' AND owner = OLD.id) OR
                       (kind = 'escrow' AND held_for = OLD.id))
                  AND balance <> 0) THEN
        blocking := blocking || 'money in your balance or held for you (ask for a payout)'::text;
    END IF;
    IF cardinality(blocking) > 0 THEN
        RAISE EXCEPTION USING
            MESSAGE = 'Your account cannot be deleted while you have '
                      || array_to_string(blocking, '; ') || '.',
            ERRCODE = 'foreign_key_violation',
            CONSTRAINT = 'users_keep_money_in_flight';
    END IF;
    RETURN OLD;
END;
$$
"""


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(CREATE_FUNCTION)
    op.execute(
        "CREATE TRIGGER users_keep_money_in_flight BEFORE DELETE ON users "
        "FOR EACH ROW EXECUTE FUNCTION refuse_deleting_users_with_money_in_flight()"
    )
    with op.get_context().autocommit_block():
        op.create_index("ix_exchange_listings_lower_city", "exchange_listings",
                        [sa.text("lower(city)")], postgresql_concurrently=True,
                        if_not_exists=True)


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.drop_index("ix_exchange_listings_lower_city", table_name="exchange_listings",
                      postgresql_concurrently=True, if_exists=True)
    op.execute("DROP TRIGGER users_keep_money_in_flight ON users")
    op.execute("DROP FUNCTION refuse_deleting_users_with_money_in_flight()")

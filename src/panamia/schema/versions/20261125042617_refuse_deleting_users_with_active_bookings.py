"""Refuse deleting users with active bookings.

Migration: 20261125042617_refuse_deleting_users_with_active_bookings
Purpose: A person with pending or confirmed pet-sitting bookings cannot delete their
  account: the other party is counting on them. PostgreSQL refuses it, so no path around
  the API can, and account deletion (identity) needs no knowledge of the pets sidecar.
Ticket: N/A
Reversible: Yes
Rollback:
  DROP TRIGGER users_keep_active_bookings ON users;
  DROP FUNCTION refuse_deleting_users_with_active_bookings();
Dependencies: users, bookings (20261125034340_add_pet_sitting_tables)
Data Migration: None
"""

from alembic import op

revision = "20261125042617_refuse_deleting_users_with_active_bookings"
down_revision = "20261125040720_add_legacy_move_bookkeeping"
branch_labels = None
depends_on = None

# A foreign-key violation with its own constraint name, so callers translate it like any
# other by SQLSTATE (23503) and name.
CREATE_FUNCTION = """
CREATE FUNCTION refuse_deleting_users_with_active_bookings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM bookings
        WHERE (owner_id = OLD.id OR sitter_id = OLD.id)
          AND status IN ('pending', 'confirmed')
    ) THEN
        RAISE EXCEPTION 'user % has active bookings', OLD.id
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'users_keep_active_bookings';
    END IF;
    RETURN OLD;
END;
$$
"""


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(CREATE_FUNCTION)
    op.execute(
        "CREATE TRIGGER users_keep_active_bookings BEFORE DELETE ON users "
        "FOR EACH ROW EXECUTE FUNCTION refuse_deleting_users_with_active_bookings()"
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP TRIGGER users_keep_active_bookings ON users")
    op.execute("DROP FUNCTION refuse_deleting_users_with_active_bookings()")

"""Add the double-entry ledger.

Migration: 20261206071419_add_ledger
Purpose: Money moves between accounts (a member's available money, one escrow account per
  held thing, platform fees, the outside world through a payment provider) in journal
  entries whose postings sum to zero per currency. PostgreSQL refuses at commit an entry
  that does not balance (a deferred constraint trigger), refuses any UPDATE, DELETE or
  TRUNCATE of entries and postings, and a CHECK keeps members' and escrow balances from
  going below zero. Each entry has a unique business key, so a replayed event posts once.
Ticket: N/A
Reversible: Yes
Rollback:
  DROP TABLE ledger_postings, ledger_entries, ledger_accounts;
  DROP FUNCTION ledger_check_entry_balances(), ledger_refuse_change();
  (only before real money is recorded: the downgrade deletes the ledger)
Dependencies: none
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op

revision = '20261206071419_add_ledger'
down_revision = '20261206054343_scope_idempotency_keys_by_operation'
branch_labels = None
depends_on = None

BALANCED = """
CREATE FUNCTION ledger_check_entry_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  off record;
BEGIN
  SELECT a.currency, sum(p.amount) AS total INTO off
    FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
   WHERE p.entry_id = NEW.entry_id
   GROUP BY a.currency HAVING sum(p.amount) <> 0
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger entry % does not balance in %: its postings sum to %',
      NEW.entry_id, off.currency, off.total
      USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_balanced';
  END IF;
  RETURN NULL;
END $$
"""

# Row triggers run once per posting (constraint triggers cannot be statement-level): fine for
# entries of two to six postings.
BALANCED_TRIGGER = """
CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_postings
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balances()
"""

REFUSE = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on %: the ledger is append-only; post a correcting entry instead',
    TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'ledger_append_only';
END $$
"""

APPEND_ONLY = ("ledger_entries", "ledger_postings")


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table('ledger_accounts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('owner', sa.Text(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('balance', sa.Numeric(), nullable=True),
    sa.Column('held_for', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('available', 'escrow', 'fees', 'external')", name=op.f('ck_ledger_accounts_known_kind')),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_ledger_accounts_iso_currency')),
    sa.CheckConstraint('balance >= 0', name=op.f('ck_ledger_accounts_never_negative')),
    sa.CheckConstraint("(balance IS NULL) = (kind IN ('fees', 'external'))", name=op.f('ck_ledger_accounts_balance_unless_hot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_accounts')),
    sa.UniqueConstraint('kind', 'owner', 'currency', name=op.f('uq_ledger_accounts_kind_owner_currency'))
    )
    op.create_index(op.f('ix_ledger_accounts_held_for'), 'ledger_accounts', ['held_for'], unique=False)
    op.create_table('ledger_entries',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('event_key', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('digest', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('event_key', name=op.f('uq_ledger_entries_event_key'))
    )
    op.create_table('ledger_postings',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('entry_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.Numeric(), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_ledger_postings_nonzero')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_postings_account_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_ledger_postings_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_postings'))
    )
    op.create_index('ix_ledger_postings_account_id_id', 'ledger_postings', ['account_id', 'id'], unique=False)
    op.create_index(op.f('ix_ledger_postings_entry_id'), 'ledger_postings', ['entry_id'], unique=False)
    op.execute(BALANCED)
    op.execute(BALANCED_TRIGGER)
    op.execute(REFUSE)
    for table in APPEND_ONLY:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
        # TRUNCATE skips row triggers.
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_table('ledger_postings')
    op.drop_table('ledger_entries')
    op.drop_index(op.f('ix_ledger_accounts_held_for'), table_name='ledger_accounts')
    op.drop_table('ledger_accounts')
    op.execute("DROP FUNCTION ledger_refuse_change()")
    op.execute("DROP FUNCTION ledger_check_entry_balances()")

"""Bookkeeping for moving NextAuth's MongoDB auth data into PostgreSQL.

Migration: 20261125040720_add_legacy_move_bookkeeping
Purpose: `panamia legacy` maps each legacy MongoDB id to its new cuid (so reruns are
  idempotent and references can be rewritten), records what it rejected and why, and
  checkpoints its progress so a crash resumes where it stopped (seed phases 2 and 3).
Ticket: N/A
Reversible: Yes
Rollback:
  DROP TABLE legacy_rejects, legacy_progress, legacy_id_map;
  The imported users stay; the mapping needed to roll references back goes with it.
Dependencies: None
Data Migration: None
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '20261125040720_add_legacy_move_bookkeeping'
down_revision = '20261125034340_add_pet_sitting_tables'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table('legacy_id_map',
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('legacy_id', sa.Text(), nullable=False),
    sa.Column('new_id', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('user', 'account', 'session')", name=op.f('ck_legacy_id_map_kind_known')),
    sa.PrimaryKeyConstraint('kind', 'legacy_id', name='pk_legacy_id_map')
    )
    op.create_index('ix_legacy_id_map_new_id', 'legacy_id_map', ['new_id'], unique=False)
    op.create_table('legacy_progress',
    sa.Column('step', sa.Text(), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.Column('counts', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('step', name=op.f('pk_legacy_progress'))
    )
    op.create_table('legacy_rejects',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('collection', sa.Text(), nullable=False),
    sa.Column('legacy_id', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('document', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legacy_rejects')),
    sa.UniqueConstraint('collection', 'legacy_id', name=op.f('uq_legacy_rejects_collection_legacy_id'))
    )


def downgrade() -> None:
    op.drop_table('legacy_rejects')
    op.drop_table('legacy_progress')
    op.drop_index('ix_legacy_id_map_new_id', table_name='legacy_id_map')
    op.drop_table('legacy_id_map')

"""Backfill screenname skeletons.

Migration: 20261206051137_backfill_screenname_skeletons
Purpose: Screennames chosen before skeletons existed get theirs, so a look-alike of an older
  name is refused too. The oldest holder of a skeleton keeps it; a later name that only looks
  like it keeps its screenname with no skeleton (it was taken in good faith), and is logged.
Ticket: N/A
Reversible: Partial
Rollback:
  Nothing to undo: the column is dropped by the previous migration's rollback.
Dependencies: users.screenname_skeleton (20261206044519_harden_sessions_screennames_and_limits)
Data Migration: Inline
"""

import logging

import sqlalchemy as sa
from alembic import op
from icu import SpoofChecker

revision = "20261206051137_backfill_screenname_skeletons"
down_revision = "20261206044519_harden_sessions_screennames_and_limits"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    if op.get_context().as_sql:
        return  # the skeletons are computed in Python from rows: nothing to render as SQL
    connection = op.get_bind()
    checker = SpoofChecker()
    taken = set(connection.execute(sa.text(
        "SELECT screenname_skeleton FROM users WHERE screenname_skeleton IS NOT NULL"
    )).scalars())
    rows = connection.execute(sa.text(
        "SELECT id, screenname FROM users "
        "WHERE screenname IS NOT NULL AND screenname_skeleton IS NULL ORDER BY created_at, id"
    )).all()
    for user_id, screenname in rows:
        skeleton = checker.getSkeleton(0, screenname.lower())
        if skeleton in taken:
            logger.warning("screenname %r looks like an older one; left without a skeleton",
                           screenname)
            continue
        taken.add(skeleton)
        connection.execute(
            sa.text("UPDATE users SET screenname_skeleton = :skeleton WHERE id = :id"),
            {"skeleton": skeleton, "id": user_id},
        )


def downgrade() -> None:
    pass

"""${message}

Migration: ${up_revision}
Purpose: ${config.attributes.get("purpose") or "TODO say why this change exists"}
Ticket: ${config.attributes.get("ticket") or "N/A"}
Reversible: Yes
Data Migration: None
"""

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
% if upgrades:
    ${upgrades}
% endif


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}

"""The loans table.

Purpose: keep who lent what to whom, until it comes back
Ticket: docs/sidecars.md
Reversible: yes
"""

import sqlalchemy as sa
from alembic import op

revision = "20270101000000_lending_loans"
down_revision = None
branch_labels = ("lending",)
depends_on = "20261125033000_init_users_and_auth"  # the users table


def upgrade() -> None:
    op.create_table(
        "lending_loans",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("lender_id", sa.String(32), nullable=False),
        sa.Column("borrower_id", sa.String(32), nullable=False),
        sa.Column("thing", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lending_loans")),
        sa.ForeignKeyConstraint(["lender_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_lending_loans_lender_id_users")),
        sa.ForeignKeyConstraint(["borrower_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_lending_loans_borrower_id_users")),
        sa.CheckConstraint("status IN ('lent', 'returned')", name=op.f("ck_lending_loans_status")),
        sa.CheckConstraint("lender_id <> borrower_id",
                           name=op.f("ck_lending_loans_not_to_oneself")),
    )
    for party in ("lender_id", "borrower_id"):
        op.create_index(op.f(f"ix_lending_loans_{party}"), "lending_loans", [party])


def downgrade() -> None:
    op.drop_table("lending_loans")

"""The ledger's tables. Their triggers (balanced entries, append-only postings) are in the
migration 20261206071419_add_ledger; `check.py` re-verifies all of it."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, new_id

# Accounts everyone's money passes through: they may go negative (the outside world) and
# keep no balance column, so that they never serialise the writers that touch them.
HOT_KINDS = ("fees", "external")
KINDS = ("available", "escrow", *HOT_KINDS)


class LedgerAccount(Base):
    """One account in one currency. `owner` is a user id (available), `<ref_type>:<ref_id>`
    (escrow), a provider name (external) or "platform" (fees). `balance` is the sum of its
    postings, kept in step by `journal.post`, and NULL for the hot kinds."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("kind", "owner", "currency"),
        CheckConstraint(f"kind IN {KINDS}", name="known_kind"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="iso_currency"),
        CheckConstraint("balance >= 0", name="never_negative"),
        CheckConstraint(f"(balance IS NULL) = (kind IN {HOT_KINDS})", name="balance_unless_hot"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    owner: Mapped[str] = mapped_column(Text, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    balance: Mapped[Decimal | None] = mapped_column(Numeric)
    # An escrow account's member: whose money first went into it (see `journal.post`).
    held_for: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class LedgerEntry(Base):
    """One business event (`event_key`), posted once; `digest` fingerprints its moves so that
    a replay with other moves is told apart from a retry."""

    __tablename__ = "ledger_entries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    event_key: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    digest: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class LedgerPosting(Base):
    """A signed amount on one account: the postings of an entry sum to zero per currency."""

    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="nonzero"),
        Index("ix_ledger_postings_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    entry_id: Mapped[str] = mapped_column(
        ForeignKey("ledger_entries.id"), nullable=False, index=True
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric, nullable=False)

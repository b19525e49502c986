"""Bookkeeping of the legacy data move, kept in PostgreSQL beside the data it produces."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, new_id

ID_KINDS = ("user", "account", "session")


class LegacyIdMap(Base):
    """Each legacy id read, and the PostgreSQL id it became (several may share one: a merge)."""

    __tablename__ = "legacy_id_map"
    __table_args__ = (
        PrimaryKeyConstraint("kind", "legacy_id", name="pk_legacy_id_map"),
        CheckConstraint("kind IN ('user', 'account', 'session')", name="kind_known"),
        Index("ix_legacy_id_map_new_id", "new_id"),
    )

    kind: Mapped[str] = mapped_column(Text, nullable=False)
    legacy_id: Mapped[str] = mapped_column(Text, nullable=False)
    new_id: Mapped[str] = mapped_column(String(32), nullable=False)
    outcome: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class LegacyReject(Base):
    """A record the move could not import, and why."""

    __tablename__ = "legacy_rejects"
    __table_args__ = (UniqueConstraint("collection", "legacy_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    collection: Mapped[str] = mapped_column(Text, nullable=False)
    legacy_id: Mapped[str] = mapped_column(Text, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class LegacyProgress(Base):
    """Checkpoint of one step: the last legacy id done, and the counts so far."""

    __tablename__ = "legacy_progress"

    step: Mapped[str] = mapped_column(Text, primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict,
                                                   server_default="{}")
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )

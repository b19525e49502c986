"""The transactional outbox: events written with the change that caused them, relayed later."""

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, new_id


class OutboxEvent(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # Only undelivered rows, in claim order: stays small however long the history grows.
        Index("ix_outbox_undelivered", "next_attempt_at", "created_at",
              postgresql_where=text("delivered_at IS NULL")),
        # Delivered rows, oldest first, for the purge.
        Index("ix_outbox_delivered", "delivered_at",
              postgresql_where=text("delivered_at IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    topic: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0", nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    # The X-Request-ID of the request that enqueued it (panamia.requestids).
    request_id: Mapped[str | None] = mapped_column(String(64))

"""A booking's messages. They go with the booking; an author's account deletion leaves their
messages in the thread without a name."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, new_id

MAX_LENGTH = 2000


class BookingMessage(Base):
    __tablename__ = "booking_messages"
    __table_args__ = (
        CheckConstraint(
            f"char_length(body) BETWEEN 1 AND {MAX_LENGTH} "
            "AND body = btrim(body, E' \\t\\r\\n')",
            name="body_trimmed_length",
        ),
        Index("ix_booking_messages_booking_id_created_at", "booking_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    booking_id: Mapped[str] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

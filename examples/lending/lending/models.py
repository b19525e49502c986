"""A loan: a member lends a thing to another member until it comes back."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from panamia.db.postgres import Base, Timestamped, new_id
from panamia.sidecar.states import StateMachine, Transition


class Loan(Timestamped, Base):
    __tablename__ = "lending_loans"
    __table_args__ = (
        CheckConstraint("status IN ('lent', 'returned')", name="status"),
        CheckConstraint("lender_id <> borrower_id", name="not_to_oneself"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    lender_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    borrower_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    thing: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="lent")
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


LOANS = StateMachine(
    Loan.__table__, "loan",
    {"return": Transition("return", frozenset({"lent"}), "returned", "lender",
                          stamp="returned_at")},
    parties={"lender": "lender_id", "borrower": "borrower_id"},
)

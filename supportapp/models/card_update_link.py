"""A link in a failed-payment email that goes straight to replacing the card.

One row per link sent (the first email and each follow-up carry their own). The link holds
only a random id, signed; the database keeps its SHA-256, so a copy of the database opens
nothing. It is bound to one failed renewal (and so to one subscription and one invoice),
works for seven days, and is spent once a card replaced through it has paid the invoice.
"""
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportapp.extensions import db
from supportapp.models.types import UTCDateTime, utcnow


class CardUpdateLink(db.Model):
    __tablename__ = "card_update_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_failure_id: Mapped[int] = mapped_column(
        ForeignKey("payment_failure.id", ondelete="CASCADE"), index=True)
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime(), nullable=False)
    # Set while a payment through the link is under way, and kept once it paid.
    used_at = mapped_column(UTCDateTime(), nullable=True)

    payment_failure = relationship("PaymentFailure")

    def __repr__(self):
        return f"<CardUpdateLink {self.id} used={self.used_at is not None}>"

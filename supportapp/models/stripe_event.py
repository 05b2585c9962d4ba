"""A Stripe event as it arrived: stored by id before it is applied, so it is applied once."""
from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from supportapp.extensions import db
from supportapp.models.types import UTCDateTime, utcnow


class StripeEvent(db.Model):
    __tablename__ = "stripe_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    created = mapped_column(UTCDateTime(), nullable=True)  # when Stripe created it
    payload: Mapped[dict] = mapped_column(JSON)
    received_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    # Set once the event has been applied (or found to need nothing); never applied again.
    processed_at = mapped_column(UTCDateTime(), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    def __repr__(self):
        return f"<StripeEvent {self.event_id} {self.type}>"

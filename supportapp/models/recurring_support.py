"""A reader's recurring gift: one Stripe subscription, whatever its payments."""
from sqlalchemy import Boolean, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from supportapp.extensions import db
from supportapp.models.attribution import AttributedToAppeal, CreditedGift, WonByReminder
from supportapp.models.types import UTCDateTime, utcnow

# Stripe subscription statuses in which the reader is still a supporter.
SUPPORTING_STATUSES = ("active", "trialing", "past_due")
INTERVALS = {"monthly": "month", "annual": "year"}


class RecurringSupport(AttributedToAppeal, CreditedGift, WonByReminder, db.Model):
    __tablename__ = "recurring_support"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    interval: Mapped[str | None] = mapped_column(String(10), nullable=True)  # month or year
    # Stripe's subscription status: incomplete, active, past_due, canceled, unpaid, ...
    status: Mapped[str] = mapped_column(String(30), default="incomplete", index=True)
    # When Stripe said so (the event's time), so an older event never overwrites a newer one.
    status_at = mapped_column(UTCDateTime(), nullable=True)
    started_at = mapped_column(UTCDateTime(), nullable=True)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_at = mapped_column(UTCDateTime(), nullable=True)
    # When the next payment is due; the renewal and card notices are due from it.
    current_period_end = mapped_column(UTCDateTime(), nullable=True, index=True)
    # Stripe's pause_collection: no payment is taken while set, until paused_until (None:
    # until resumed). The subscription's status stays "active" meanwhile.
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    paused_until = mapped_column(UTCDateTime(), nullable=True)
    # The card's expiry (month 1-12, four-digit year), to warn before a renewal fails.
    card_exp_month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    card_exp_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The notices already written (services/notices.py), so that the worker looks for the
    # next one only: the period end a renewal notice told of, and the card expiry
    # (year * 12 + month - 1, CardExpiry.index) a card-expiring email told of.
    renewal_notice_for = mapped_column(UTCDateTime(), nullable=True)
    card_notice_for: Mapped[int | None] = mapped_column(Integer, nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)

    @property
    def frequency(self):
        return {"month": "monthly", "year": "annual"}.get(self.interval or "")

    @property
    def supporting(self):
        return self.status in SUPPORTING_STATUSES

    def __repr__(self):
        return f"<RecurringSupport {self.stripe_subscription_id} {self.status}>"

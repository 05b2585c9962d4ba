"""A renewal that Stripe could not charge, and what became of it: recovered or lost.

One row per failed invoice (its first failure opens it; Stripe's retries update it). The
follow-up emails are due at `next_followup_at`, a date in the database, so a worker that
was down catches up when it starts.
"""
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportapp.extensions import db
from supportapp.models.types import UTCDateTime, utcnow


class PaymentFailure(db.Model):
    __tablename__ = "payment_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recurring_support_id: Mapped[int] = mapped_column(
        ForeignKey("recurring_support.id", ondelete="CASCADE"), index=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    first_failed_at = mapped_column(UTCDateTime(), nullable=False, index=True)
    last_failed_at = mapped_column(UTCDateTime(), nullable=False)
    # Stripe's words for the latest decline (e.g. "insufficient_funds"), never card data.
    reason: Mapped[str | None] = mapped_column(String(100), nullable=True)
    attempt_count: Mapped[int] = mapped_column(Integer, default=1)
    next_retry_at = mapped_column(UTCDateTime(), nullable=True)  # invoice.next_payment_attempt
    # Set once: paid after failing (recovered) or ended unpaid (lost).
    recovered_at = mapped_column(UTCDateTime(), nullable=True, index=True)
    lost_at = mapped_column(UTCDateTime(), nullable=True, index=True)
    # The follow-ups done (1: day 3, 2: day 7), not counting the first email, which goes
    # with the failure; a worker back from an outage sends only the latest one due and
    # counts the skipped ones too. The emails themselves: outbox keys recovery:<invoice>:*.
    followups_sent: Mapped[int] = mapped_column(Integer, default=0)
    next_followup_at = mapped_column(UTCDateTime(), nullable=True, index=True)
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    recurring_support = relationship("RecurringSupport")

    @property
    def open(self):
        return self.recovered_at is None and self.lost_at is None

    def __repr__(self):
        return f"<PaymentFailure {self.stripe_invoice_id}>"

"""One payment a reader made (or tried to make): a one-off gift or one payment of a subscription."""
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from supportapp.extensions import db
from supportapp.models.attribution import AttributedToAppeal, CreditedGift, WonByReminder
from supportapp.models.types import UTCDateTime, utcnow

CONTRIBUTION_STATUSES = (
    "pending", "failed", "paid", "partially_refunded", "refunded", "disputed",
)
# The Stripe ids that identify a payment; each names at most one contribution.
STRIPE_KEYS = (
    "stripe_checkout_session_id", "stripe_payment_intent_id", "stripe_charge_id",
    "stripe_invoice_id",
)


class Contribution(AttributedToAppeal, CreditedGift, WonByReminder, db.Model):
    __tablename__ = "contribution"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What was charged, in minor units, fees included when the reader chose to cover them.
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), index=True)
    # None until the event that says so arrives (a refund can come in before its payment).
    frequency: Mapped[str | None] = mapped_column(String(10), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    amount_refunded_minor: Mapped[int] = mapped_column(Integer, default=0)
    # Stripe's processing fee on the charge, from its balance transaction; None while
    # unknown (payments recorded before fees were, or Stripe settled in another currency).
    # Stripe keeps it when the payment is refunded.
    fee_minor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # What a dispute withdrew from the balance, and Stripe's dispute fee on top.
    disputed_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dispute_fee_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    covers_fees: Mapped[bool] = mapped_column(Boolean, default=False)
    billing_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), index=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)
    paid_at = mapped_column(UTCDateTime(), nullable=True, index=True)
    failed_at = mapped_column(UTCDateTime(), nullable=True)
    disputed_at = mapped_column(UTCDateTime(), nullable=True)

    @property
    def net_minor(self):
        return max(self.amount_minor - self.amount_refunded_minor, 0)

    @property
    def net_of_fees_minor(self):
        """What the newsroom keeps: the amount less refunds, dispute withdrawals, Stripe's
        fee and dispute fees (negative when a dispute cost more than the gift); None while
        the fee is unknown."""
        if self.fee_minor is None:
            return None
        return (self.amount_minor - (self.amount_refunded_minor or 0) - (self.disputed_minor or 0)
                - self.fee_minor - (self.dispute_fee_minor or 0))

    def refresh_status(self):
        """Derive the status from the facts recorded so far, whatever order they arrived in."""
        if self.disputed_at:
            self.status = "disputed"
        elif self.amount_refunded_minor and self.amount_refunded_minor >= self.amount_minor:
            self.status = "refunded"
        elif self.amount_refunded_minor:
            self.status = "partially_refunded"
        elif self.paid_at:
            self.status = "paid"
        elif self.failed_at:
            self.status = "failed"
        else:
            self.status = "pending"
        return self.status

    def __repr__(self):
        return f"<Contribution {self.id} {self.amount_minor} {self.currency} {self.status}>"

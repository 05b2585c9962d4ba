"""Applying Stripe events to contributions and recurring supports, idempotently.

Handlers take the event's object as a plain dict and work inside the caller's transaction.
Each records facts (paid at, refunded so much, cancelled at...) that only ever grow, so
events give the same result in any order and applied twice change nothing.
"""
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from supportapp.extensions import db
from supportapp.models.recurring_support import INTERVALS
from supportapp.services import payments
from supportapp.services import stripe_payload as p
from supportapp.services.contributions import (
    attribution,
    backfill_attribution,
    contribution_exists,
    contribution_for,
    fill,
    is_newer,
    recurring_support_for,
    set_status,
)

FREQUENCY_OF_INTERVAL = {"month": "monthly", "year": "annual"}
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckoutOutcome:
    """What the thank-you page needs to know about a Checkout Session."""

    state: str  # paid, pending (paid by a slow method, not yet settled), open or expired
    amount_minor: int | None
    currency: str | None
    frequency: str | None
    email: str | None
    customer_id: str | None
    subscription_id: str | None
    reference: str | None  # the payment intent or subscription id, for the receipt line

    @property
    def paid(self):
        return self.state == "paid"

    @property
    def recurring(self):
        return self.frequency in ("monthly", "annual")


def checkout_outcome(session):
    status, payment = session.get("status"), session.get("payment_status")
    if status == "complete":
        state = "paid" if payment in ("paid", "no_payment_required") else "pending"
    else:
        state = "expired" if status == "expired" else "open"
    frequency = p.dig(session, "metadata", "frequency")
    if frequency not in ("one_off", "monthly", "annual"):
        frequency = "one_off" if session.get("mode") == "payment" else None
    subscription = p.stripe_id(session.get("subscription"))
    return CheckoutOutcome(
        state=state, amount_minor=p.amount(session.get("amount_total")),
        currency=p.currency(session.get("currency")), frequency=frequency,
        email=_email(session), customer_id=p.stripe_id(session.get("customer")),
        subscription_id=subscription,
        reference=subscription or p.stripe_id(session.get("payment_intent")),
    )


def fulfil_checkout(session_id, commit=True):
    """Record what a Checkout Session paid for; safe to call twice and concurrently.

    Called by the thank-you page (commit=True) and by the webhook (inside its transaction).
    Raises payments.PaymentsUnavailable / PaymentsRejected when Stripe cannot say.
    """
    session = payments.retrieve_checkout_session(session_id)
    if not commit:
        _apply_checkout(session)
        return checkout_outcome(session)
    try:
        _apply_checkout(session)
        db.session.commit()
    except (SQLAlchemyError, p.PayloadError) as exc:
        # The webhook records it too; the reader still gets their answer.
        db.session.rollback()
        log.warning("could not record checkout %s now (%s)", session_id, type(exc).__name__)
    return checkout_outcome(session)


def _email(session):
    return p.text(p.dig(session, "customer_details", "email"), 320) or p.text(
        session.get("customer_email"), 320)


def _apply_checkout(session):
    if session.get("status") != "complete":
        return None
    session_id = p.required(p.stripe_id(session.get("id")), "checkout session id")
    total = p.required(p.amount(session.get("amount_total")), "amount_total")
    currency = p.required(p.currency(session.get("currency")), "currency")
    metadata = p.mapping(session.get("metadata"))
    known = dict(email=_email(session), stripe_customer_id=p.stripe_id(session.get("customer")),
                 **attribution(metadata))
    if session.get("mode") == "subscription":
        return _start_support(session, session_id, total, currency, metadata, known)
    row = contribution_for({"stripe_checkout_session_id": session_id,
                            "stripe_payment_intent_id": p.stripe_id(session.get("payment_intent"))},
                           total, currency)
    fill(row, frequency="one_off", **known)
    row.covers_fees = row.covers_fees or metadata.get("cover_fees") == "1"
    if session.get("payment_status") == "paid" and row.paid_at is None:
        row.paid_at = datetime.now(UTC)
    row.refresh_status()
    return row


def _start_support(session, session_id, total, currency, metadata, known):
    subscription_id = p.required(p.stripe_id(session.get("subscription")), "subscription")
    support = recurring_support_for(subscription_id, total, currency)
    fill(support, stripe_checkout_session_id=session_id,
         interval=INTERVALS.get(metadata.get("frequency")), started_at=datetime.now(UTC),
         **known)
    if support.status_at is None and session.get("payment_status") == "paid":
        support.status = "active"
    backfill_attribution(subscription_id, {k: known[k] for k in
                                           ("story_id", "appeal_id", "variant_id", "reader_id")})
    return support


def on_checkout_completed(session, event):
    fulfil_checkout(p.required(p.stripe_id(session.get("id")), "checkout session id"),
                    commit=False)


def on_checkout_async_failed(session, event):
    fresh = payments.retrieve_checkout_session(
        p.required(p.stripe_id(session.get("id")), "checkout session id"))
    row = _apply_checkout(fresh)
    if row is not None and hasattr(row, "failed_at"):
        row.failed_at = row.failed_at or p.event_time(event)
        row.refresh_status()


def _subscription_of(invoice):
    details = p.mapping(p.dig(invoice, "parent", "subscription_details"))
    return p.stripe_id(details.get("subscription")), p.mapping(details.get("metadata"))


def _invoice_payment_intent(invoice, invoice_id):
    """The invoice's payment intent: from the payload when Stripe included `payments`,
    else asked of Stripe (refunds and disputes name the payment intent, not the invoice)."""
    payments_list = p.dig(invoice, "payments", "data")
    for payment in payments_list if isinstance(payments_list, list) else []:
        intent = p.stripe_id(p.dig(payment, "payment", "payment_intent"))
        if intent:
            return intent
    try:
        return payments.invoice_payment_intent(invoice_id)
    except payments.PaymentsRejected:
        return None


def _invoice_records(invoice, amount_field):
    """(support, contribution) for one payment of a subscription; (None, None) otherwise."""
    subscription_id, metadata = _subscription_of(invoice)
    if subscription_id is None:
        return None, None  # not a subscription invoice: not one of ours
    invoice_id = p.required(p.stripe_id(invoice.get("id")), "invoice id")
    amount = p.required(p.amount(invoice.get(amount_field)), amount_field)
    currency = p.required(p.currency(invoice.get("currency")), "currency")
    frequency = metadata.get("frequency") if metadata.get("frequency") in INTERVALS else None
    intent = _invoice_payment_intent(invoice, invoice_id)
    support = recurring_support_for(subscription_id, amount, currency)
    won_by = attribution(metadata)
    fill(support, interval=INTERVALS.get(frequency),
         email=p.text(invoice.get("customer_email"), 320),
         stripe_customer_id=p.stripe_id(invoice.get("customer")), **won_by)
    row = contribution_for({"stripe_invoice_id": invoice_id,
                            "stripe_payment_intent_id": intent},
                           amount, currency)
    fill(row, frequency=frequency or support.frequency, stripe_subscription_id=subscription_id,
         stripe_customer_id=support.stripe_customer_id, email=support.email,
         billing_reason=p.text(invoice.get("billing_reason"), 40),
         story_id=support.story_id, appeal_id=support.appeal_id,
         variant_id=support.variant_id, reader_id=support.reader_id)
    return support, row


def on_invoice_paid(invoice, event):
    support, row = _invoice_records(invoice, "amount_paid")
    if support is None:
        return
    paid_at = p.timestamp(p.dig(invoice, "status_transitions", "paid_at"))
    fill(row, paid_at=paid_at or p.event_time(event))
    row.refresh_status()
    set_status(support, "active", p.event_time(event))
    period_end = p.timestamp(p.dig(invoice, "lines", "data", 0, "period", "end"))
    if period_end and (support.current_period_end is None
                       or period_end > support.current_period_end):
        support.current_period_end = period_end


def on_invoice_payment_failed(invoice, event):
    support, row = _invoice_records(invoice, "amount_due")
    if support is None:
        return
    fill(row, failed_at=p.event_time(event))
    row.refresh_status()
    set_status(support, "past_due", p.event_time(event))


def on_subscription_changed(subscription, event):
    subscription_id = p.required(p.stripe_id(subscription.get("id")), "subscription id")
    item = p.mapping(p.dig(subscription, "items", "data", 0))
    price = p.mapping(item.get("price"))
    quantity = p.amount(item.get("quantity")) or 1
    amount = p.required(p.amount(price.get("unit_amount")), "price.unit_amount") * quantity
    currency = p.required(p.currency(subscription.get("currency") or price.get("currency")),
                          "currency")
    support = recurring_support_for(subscription_id, amount, currency)
    interval = p.dig(price, "recurring", "interval")
    fill(support, stripe_customer_id=p.stripe_id(subscription.get("customer")),
         interval=interval if interval in FREQUENCY_OF_INTERVAL else None,
         started_at=p.timestamp(subscription.get("start_date")),
         **attribution(subscription.get("metadata")))
    at = p.event_time(event)
    if not is_newer(support, at):
        return
    status = p.text(subscription.get("status"), 30)
    if event.get("type") == "customer.subscription.deleted":
        status = "canceled"
    set_status(support, status, at)
    support.amount_minor = amount
    support.cancel_at_period_end = subscription.get("cancel_at_period_end") is True
    support.cancelled_at = p.timestamp(subscription.get("canceled_at")) or (
        at if status == "canceled" else None)
    period_end = p.timestamp(item.get("current_period_end"))
    if period_end:
        support.current_period_end = period_end


def _charge_row(charge_id, intent, amount_minor, currency):
    return contribution_for({"stripe_charge_id": charge_id, "stripe_payment_intent_id": intent},
                            amount_minor, currency)


def on_charge_refunded(charge, event):
    charge_id = p.required(p.stripe_id(charge.get("id")), "charge id")
    row = _charge_row(charge_id, p.stripe_id(charge.get("payment_intent")),
                      p.required(p.amount(charge.get("amount")), "amount"),
                      p.required(p.currency(charge.get("currency")), "currency"))
    fill(row, paid_at=p.timestamp(charge.get("created")))
    refunded = p.amount(charge.get("amount_refunded")) or 0
    row.amount_refunded_minor = max(row.amount_refunded_minor or 0, refunded)
    row.refresh_status()


def on_dispute_created(dispute, event):
    charge_id = p.stripe_id(dispute.get("charge"))
    intent = p.stripe_id(dispute.get("payment_intent"))
    p.required(charge_id or intent, "charge or payment intent")
    if intent is None and not contribution_exists(stripe_charge_id=charge_id):
        intent = payments.charge_payment_intent(charge_id)
    row = _charge_row(charge_id, intent,
                      p.required(p.amount(dispute.get("amount")), "amount"),
                      p.required(p.currency(dispute.get("currency")), "currency"))
    fill(row, disputed_at=p.event_time(event))
    row.refresh_status()


HANDLERS = {
    "checkout.session.completed": on_checkout_completed,
    "checkout.session.async_payment_succeeded": on_checkout_completed,
    "checkout.session.async_payment_failed": on_checkout_async_failed,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
    "customer.subscription.created": on_subscription_changed,
    "customer.subscription.updated": on_subscription_changed,
    "customer.subscription.deleted": on_subscription_changed,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.created": on_dispute_created,
}


def apply_event(event):
    """Apply one event (a plain dict) in the caller's transaction; False if not ours to handle.

    Raises stripe_payload.PayloadError for a payload its type cannot have, and
    payments.PaymentsUnavailable when Stripe must be asked and cannot be reached.
    """
    handler = HANDLERS.get(event.get("type"))
    if handler is None:
        return False
    obj = p.dig(event, "data", "object")
    if not isinstance(obj, dict):
        raise p.PayloadError("data.object is not an object")
    handler(obj, event)
    return True

"""Applying Stripe events to contributions and recurring supports, idempotently.

Handlers take the event's object as a plain dict and work inside the caller's transaction.
Each records facts (paid at, refunded so much, cancelled at...) that only ever grow, so
events give the same result in any order and applied twice change nothing. The receipts and
refund notices those facts call for are queued in the same transaction (services/receipts).
"""
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from cachetools import TLRUCache
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from supportapp.extensions import db
from supportapp.models import Contribution
from supportapp.models.recurring_support import INTERVALS
from supportapp.services import payments
from supportapp.services import stripe_payload as p
from supportapp.services.card_expiry import record_cards
from supportapp.services.contributions import (
    ATTRIBUTION_FIELDS,
    attribution,
    backfill_attribution,
    contribution_for,
    fill,
    fill_email,
    recurring_support_for,
)
from supportapp.services.payment_fees import record_charge_fee, record_dispute
from supportapp.services.receipts import queue_payment_emails
from supportapp.services.recurring import (
    on_invoice_paid,
    on_invoice_payment_failed,
    on_subscription_changed,
)

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
    amount_chosen: int | None = None  # before any fee cover
    story: str | None = None  # the appeal that won the gift, as its metadata says
    appeal: str | None = None
    variant: str | None = None

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
        amount_chosen=_number(p.dig(session, "metadata", "amount_chosen")),
        **{name: p.text(p.dig(session, "metadata", name), 200)
           for name in ("story", "appeal", "variant")},
    )


def _number(text):
    return int(text) if isinstance(text, str) and text.isascii() and text.isdigit() and len(
        text) < 12 else None


# What Stripe answered about a session, per app: a reloaded thank-you page, or the same id
# tried again and again, asks Stripe once. Settled answers (paid, expired, unknown id) keep;
# a session still open or pending is asked again after a few seconds.
SETTLED_ANSWER_SECONDS = 600
OPEN_ANSWER_SECONDS = 5
_CACHE = "supportapp.checkout_answers"
_UNKNOWN = "unknown to Stripe"


def _answer_lifetime(_key, answer, now):
    settled = answer == _UNKNOWN or checkout_outcome(answer).state in ("paid", "expired")
    return now + (SETTLED_ANSWER_SECONDS if settled else OPEN_ANSWER_SECONDS)


def _answers():
    return current_app.extensions.setdefault(
        _CACHE, (TLRUCache(maxsize=4096, ttu=_answer_lifetime), threading.Lock()))


def checkout_session_answer(session_id):
    """The Checkout Session as Stripe last said (see SETTLED_ANSWER_SECONDS); raises
    PaymentsRejected for an id Stripe does not know, PaymentsUnavailable when unreachable."""
    cache, lock = _answers()
    with lock:
        answer = cache.get(session_id)
    if answer is None:
        try:
            answer = payments.retrieve_checkout_session(session_id)
        except payments.PaymentsRejected:
            answer = _UNKNOWN
        with lock:
            cache[session_id] = answer
    if answer == _UNKNOWN:
        raise payments.PaymentsRejected("checkout session")
    return answer


def fulfil_checkout(session_id):
    """Record what a Checkout Session paid for; safe to call twice and concurrently.

    Called by the thank-you page; the webhook applies the same session through
    `apply_event`. Stripe is asked first (or its recent answer reused), with no transaction
    open. Raises payments.PaymentsUnavailable / PaymentsRejected when Stripe cannot say.
    """
    session = checkout_session_answer(session_id)
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
    # A setup-mode session saves a card and pays nothing: only its card is recorded (by
    # apply_event, from the facts).
    if session.get("status") != "complete" or session.get("mode") == "setup":
        return None
    session_id = p.required(p.stripe_id(session.get("id")), "checkout session id")
    total = p.required(p.amount(session.get("amount_total")), "amount_total")
    currency = p.required(p.currency(session.get("currency")), "currency")
    metadata = p.mapping(session.get("metadata"))
    known = dict(stripe_customer_id=p.stripe_id(session.get("customer")), **attribution(metadata))
    if session.get("mode") == "subscription":
        return _start_support(session, session_id, total, currency, metadata, known)
    row = contribution_for({"stripe_checkout_session_id": session_id,
                            "stripe_payment_intent_id": p.stripe_id(session.get("payment_intent"))},
                           total, currency)
    fill(row, frequency="one_off", **known)
    fill_email(row, _email(session))
    row.covers_fees = row.covers_fees or metadata.get("cover_fees") == "1"
    if session.get("payment_status") == "paid" and row.paid_at is None:
        row.paid_at = datetime.now(UTC)
    row.refresh_status()
    queue_payment_emails(row)
    return row


def _start_support(session, session_id, total, currency, metadata, known):
    subscription_id = p.required(p.stripe_id(session.get("subscription")), "subscription")
    support = recurring_support_for(subscription_id, total, currency)
    fill(support, stripe_checkout_session_id=session_id,
         interval=INTERVALS.get(metadata.get("frequency")), started_at=datetime.now(UTC),
         **known)
    fill_email(support, _email(session))
    if support.status_at is None and session.get("payment_status") == "paid":
        support.status = "active"
    backfill_attribution(subscription_id, {k: known.get(k) for k in ATTRIBUTION_FIELDS})
    return support


def on_checkout_completed(session, event, facts):
    row = _apply_checkout(facts.session)
    if isinstance(row, Contribution):
        record_charge_fee(row, facts.balance)


def on_checkout_async_failed(session, event, facts):
    row = _apply_checkout(facts.session)
    if row is not None and hasattr(row, "failed_at"):
        row.failed_at = row.failed_at or p.event_time(event)
        row.refresh_status()


def _charge_row(charge_id, intent, amount_minor, currency):
    return contribution_for({"stripe_charge_id": charge_id, "stripe_payment_intent_id": intent},
                            amount_minor, currency)


def on_charge_refunded(charge, event, facts):
    charge_id = p.required(p.stripe_id(charge.get("id")), "charge id")
    row = _charge_row(charge_id, p.stripe_id(charge.get("payment_intent")),
                      p.required(p.amount(charge.get("amount")), "amount"),
                      p.required(p.currency(charge.get("currency")), "currency"))
    fill(row, paid_at=p.timestamp(charge.get("created")))
    refunded = p.amount(charge.get("amount_refunded")) or 0
    row.amount_refunded_minor = max(row.amount_refunded_minor or 0, refunded)
    record_charge_fee(row, facts.balance)
    row.refresh_status()
    queue_payment_emails(row)


def on_dispute_created(dispute, event, facts):
    charge_id = p.stripe_id(dispute.get("charge"))
    intent = p.stripe_id(dispute.get("payment_intent")) or facts.payment_intent
    p.required(charge_id or intent, "charge or payment intent")
    row = _charge_row(charge_id, intent,
                      p.required(p.amount(dispute.get("amount")), "amount"),
                      p.required(p.currency(dispute.get("currency")), "currency"))
    fill(row, disputed_at=p.event_time(event))
    record_charge_fee(row, facts.balance)
    record_dispute(row, dispute)
    row.refresh_status()


def on_card_changed(obj, event, facts):
    """A card attached to a customer, or their default card changed: nothing to record but
    the cards their gifts renew on, which `apply_event` records for every event."""


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
    "payment_method.attached": on_card_changed,
    "customer.updated": on_card_changed,
}


def apply_event(event, facts):
    """Apply one event (a plain dict) in the caller's transaction; False if not ours to handle.

    `facts` is what stripe_facts.fetch_facts asked Stripe beforehand; nothing here calls
    Stripe. Raises stripe_payload.PayloadError for a payload its type cannot have.
    The card each subscription renews on, where the facts tell it, is recorded after the
    handler (which may have just created the recurring support).
    """
    handler = HANDLERS.get(event.get("type"))
    if handler is None:
        return False
    obj = p.dig(event, "data", "object")
    if not isinstance(obj, dict):
        raise p.PayloadError("data.object is not an object")
    handler(obj, event, facts)
    record_cards(facts.cards, facts.fetched_at)
    return True

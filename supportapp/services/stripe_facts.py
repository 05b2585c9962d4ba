"""What Stripe says now about an event's objects, asked before the event is claimed.

No network call happens inside an open write transaction: on SQLite it would hold the only
write lock for as long as Stripe takes to answer (up to the 15 s timeout and a retry), on
PostgreSQL the rows of the payment. So every question an event type puts to Stripe is asked
here first, with no transaction open, and the handlers (fulfilment, recurring) apply the
answers afterwards. Two deliveries racing may apply their answers in either order; a state
carries the time it was fetched and an older one never overwrites a newer
(`contributions.is_newer`).
"""
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import RecurringSupport
from supportapp.services import card_expiry, payments
from supportapp.services import stripe_payload as p

# A customer's recurring gifts asked about when their card changes; a reader has one or two.
MAX_SUBSCRIPTIONS_PER_CUSTOMER = 10


def _now():
    return datetime.now(UTC)


@dataclass(frozen=True)
class StripeFacts:
    """Answers from Stripe for one event; None where nothing was asked or Stripe had none."""

    session: dict | None = None  # the Checkout Session as it is now
    subscription: dict | None = None  # the subscription now; None if Stripe does not know it
    payment_intent: str | None = None  # the payment intent of the event's invoice or charge
    # {subscription id: CardExpiry}: the card each subscription renews on, where Stripe said.
    cards: dict = field(default_factory=dict)
    decline_code: str | None = None  # why the payment intent's last attempt failed
    # The balance transaction of the event's charge: Stripe's fee and net on the payment.
    balance: dict | None = None
    fetched_at: datetime = field(default_factory=_now)


def checkout_session_now(obj):
    """The Checkout Session named by the event's object, fresh from Stripe, and for a paid
    one-off gift its charge's balance transaction."""
    session_id = p.required(p.stripe_id(obj.get("id")), "checkout session id")
    session = payments.retrieve_checkout_session(session_id,
                                                 expand=card_expiry.CHECKOUT_EXPAND)
    intent = p.stripe_id(session.get("payment_intent"))
    paid = session.get("mode") == "payment" and session.get("payment_status") == "paid"
    return StripeFacts(session=session, cards=card_expiry.cards_of_checkout(session),
                       balance=balance_of(payment_intent_id=intent) if paid and intent else None)


def balance_of(charge_id=None, payment_intent_id=None):
    """The charge's balance transaction, or None when Stripe has none or refuses."""
    try:
        return payments.charge_balance_transaction(charge_id, payment_intent_id)
    except payments.PaymentsRejected:
        return None


def subscription_now(subscription_id):
    """The subscription as Stripe has it now, with the card it renews on expanded, or None
    when Stripe does not know it."""
    try:
        return payments.retrieve_subscription(subscription_id,
                                              expand=card_expiry.SUBSCRIPTION_EXPAND)
    except payments.PaymentsRejected:
        return None


def _with_cards(subscription, **facts):
    return StripeFacts(subscription=subscription, **facts,
                       cards=card_expiry.cards_of_subscription(subscription or {}))


def subscription_of_invoice(invoice):
    """(subscription id, its metadata) of a subscription's invoice; (None, {}) otherwise."""
    details = p.mapping(p.dig(invoice, "parent", "subscription_details"))
    return p.stripe_id(details.get("subscription")), p.mapping(details.get("metadata"))


def _intent_in_invoice(invoice):
    listed = p.dig(invoice, "payments", "data")
    for payment in listed if isinstance(listed, list) else []:
        intent = p.stripe_id(p.dig(payment, "payment", "payment_intent"))
        if intent:
            return intent
    return None


def invoice_facts(invoice):
    """The invoice's payment intent (refunds and disputes name it, not the invoice) and its
    subscription now. Current API versions leave `payments` out unless asked for."""
    subscription_id, _ = subscription_of_invoice(invoice)
    if subscription_id is None:
        return StripeFacts()  # not a subscription's invoice: not one of ours
    invoice_id = p.required(p.stripe_id(invoice.get("id")), "invoice id")
    intent = _intent_in_invoice(invoice)
    if intent is None:
        try:
            intent = payments.invoice_payment_intent(invoice_id)
        except payments.PaymentsRejected:
            intent = None
    return _with_cards(subscription_now(subscription_id), payment_intent=intent)


# Invoices of a subscription's renewals: a failure of one of these is worth winning back.
RENEWAL_REASONS = ("subscription_cycle", "subscription_update")


def failed_invoice_facts(invoice):
    """invoice_facts, and for a failed renewal why its card was declined (the invoice does
    not say; its payment intent does)."""
    facts = invoice_facts(invoice)
    if facts.payment_intent is None or invoice.get("billing_reason") not in RENEWAL_REASONS:
        return facts
    try:
        code = payments.payment_error_code(facts.payment_intent)
    except payments.PaymentsRejected:
        code = None
    return replace(facts, decline_code=p.text(code, 100))


def paid_invoice_facts(invoice):
    """invoice_facts, and the balance transaction of the charge that paid the invoice."""
    facts = invoice_facts(invoice)
    if facts.payment_intent is None:
        return facts
    return replace(facts, balance=balance_of(payment_intent_id=facts.payment_intent))


def refunded_charge_facts(charge):
    """A charge can be refunded before its payment's own event arrives: its fee is asked
    for here too, so the payment is netted whichever event comes first."""
    return StripeFacts(balance=balance_of(charge_id=p.required(
        p.stripe_id(charge.get("id")), "charge id")))


def subscription_facts(subscription):
    subscription_id = p.required(p.stripe_id(subscription.get("id")), "subscription id")
    return _with_cards(subscription_now(subscription_id))


def customer_cards(customer_id):
    """The card each of a customer's recurring gifts renews on now, after a card was added
    to the customer or became its default: Stripe is asked about each gift we know of."""
    if customer_id is None:
        return StripeFacts()
    subscription_ids = db.session.scalars(
        select(RecurringSupport.stripe_subscription_id)
        .where(RecurringSupport.stripe_customer_id == customer_id,
               RecurringSupport.status != "canceled")
        .order_by(RecurringSupport.id.desc()).limit(MAX_SUBSCRIPTIONS_PER_CUSTOMER)).all()
    db.session.rollback()  # only a read: no transaction stays open while Stripe answers
    cards = {}
    for subscription_id in subscription_ids:
        cards.update(card_expiry.cards_of_subscription(subscription_now(subscription_id) or {}))
    return StripeFacts(cards=cards)


def payment_method_facts(method):
    """A card attached to a customer may be (or soon become) what their gifts renew on."""
    return customer_cards(p.stripe_id(method.get("customer")))


def customer_facts(customer):
    return customer_cards(p.stripe_id(customer.get("id")))


def dispute_facts(dispute):
    """A dispute names its charge; the payment intent ties it to the gift it disputes."""
    charge_id = p.stripe_id(dispute.get("charge"))
    if charge_id is None:
        return StripeFacts()
    balance = balance_of(charge_id=charge_id)
    if p.stripe_id(dispute.get("payment_intent")):
        return StripeFacts(balance=balance)
    return StripeFacts(payment_intent=payments.charge_payment_intent(charge_id), balance=balance)


FETCHERS = {
    "checkout.session.completed": checkout_session_now,
    "checkout.session.async_payment_succeeded": checkout_session_now,
    "checkout.session.async_payment_failed": checkout_session_now,
    "invoice.paid": paid_invoice_facts,
    "invoice.payment_failed": failed_invoice_facts,
    "customer.subscription.created": subscription_facts,
    "customer.subscription.updated": subscription_facts,
    "customer.subscription.deleted": subscription_facts,
    "charge.refunded": refunded_charge_facts,
    "charge.dispute.created": dispute_facts,
    "payment_method.attached": payment_method_facts,
    "customer.updated": customer_facts,
}


def fetch_facts(event):
    """Ask Stripe what applying this event needs; call it with no transaction open.

    Raises payments.PaymentsUnavailable (try again later), payments.PaymentsRejected and
    stripe_payload.PayloadError (the event cannot be applied).
    """
    kind = p.dig(event, "type")
    fetch = FETCHERS.get(kind)
    obj = p.dig(event, "data", "object")
    if fetch is None or not isinstance(obj, dict):
        return StripeFacts()
    if kind == "customer.updated" and not _default_card_changed(event):
        return StripeFacts()  # a new name or address: no card to ask about
    return fetch(obj)


def _default_card_changed(event):
    previous = p.mapping(p.dig(event, "data", "previous_attributes"))
    return "default_payment_method" in p.mapping(previous.get("invoice_settings"))

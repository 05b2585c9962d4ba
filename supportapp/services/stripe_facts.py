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

from supportapp.services import payments
from supportapp.services import stripe_payload as p


def _now():
    return datetime.now(UTC)


@dataclass(frozen=True)
class StripeFacts:
    """Answers from Stripe for one event; None where nothing was asked or Stripe had none."""

    session: dict | None = None  # the Checkout Session as it is now
    subscription: dict | None = None  # the subscription now; None if Stripe does not know it
    payment_intent: str | None = None  # the payment intent of the event's invoice or charge
    decline_code: str | None = None  # why the payment intent's last attempt failed
    fetched_at: datetime = field(default_factory=_now)


def checkout_session_now(obj):
    """The Checkout Session named by the event's object, fresh from Stripe."""
    session_id = p.required(p.stripe_id(obj.get("id")), "checkout session id")
    return StripeFacts(session=payments.retrieve_checkout_session(session_id))


def subscription_now(subscription_id):
    """The subscription as Stripe has it now, or None when Stripe does not know it."""
    try:
        return payments.retrieve_subscription(subscription_id)
    except payments.PaymentsRejected:
        return None


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
    return StripeFacts(subscription=subscription_now(subscription_id), payment_intent=intent)


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


def subscription_facts(subscription):
    subscription_id = p.required(p.stripe_id(subscription.get("id")), "subscription id")
    return StripeFacts(subscription=subscription_now(subscription_id))


def dispute_facts(dispute):
    """A dispute names its charge; the payment intent ties it to the gift it disputes."""
    charge_id = p.stripe_id(dispute.get("charge"))
    if p.stripe_id(dispute.get("payment_intent")) or charge_id is None:
        return StripeFacts()
    return StripeFacts(payment_intent=payments.charge_payment_intent(charge_id))


FETCHERS = {
    "checkout.session.completed": checkout_session_now,
    "checkout.session.async_payment_succeeded": checkout_session_now,
    "checkout.session.async_payment_failed": checkout_session_now,
    "invoice.paid": invoice_facts,
    "invoice.payment_failed": failed_invoice_facts,
    "customer.subscription.created": subscription_facts,
    "customer.subscription.updated": subscription_facts,
    "customer.subscription.deleted": subscription_facts,
    "charge.dispute.created": dispute_facts,
}


def fetch_facts(event):
    """Ask Stripe what applying this event needs; call it with no transaction open.

    Raises payments.PaymentsUnavailable (try again later), payments.PaymentsRejected and
    stripe_payload.PayloadError (the event cannot be applied).
    """
    fetch = FETCHERS.get(p.dig(event, "type"))
    obj = p.dig(event, "data", "object")
    if fetch is None or not isinstance(obj, dict):
        return StripeFacts()
    return fetch(obj)

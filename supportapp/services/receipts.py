"""Receipts and refund notices, written with the payment fact they tell of, once per payment.

The handlers that record a payment (fulfilment's checkout, recurring's invoice.paid) and a
refund (fulfilment's charge.refunded) call `queue_payment_emails` in their transaction, so
an email exists exactly when its fact committed. Keys name the payment by the Stripe id of
the event that reports it: the invoice of a subscription's payment, the Checkout Session of
a one-off gift. That id never changes for a payment, whichever of the thank-you page, the
webhook or `stripe sync` records it first, and in whatever order Stripe's events come; a
contribution's row id would not do, since a row seen first through a refund or a dispute
can be merged into another later (contributions._absorb).

A refund notice is keyed by the payment and the total refunded so far: a partial refund then
the rest are two notices, the same refund event twice is one. A refund that arrives before
its payment waits for the payment's event (only that says who paid), which then writes the
receipt and one notice for everything refunded until then.

Receipts are not marketing: they go to every supporter Stripe gave an address for, whatever
they chose about reminders or other email. A reader's opt-out must never be checked here.
"""
import hashlib
import logging

from babel.dates import format_date
from flask import current_app
from sqlalchemy import select
from werkzeug.routing import BuildError

from supportapp.extensions import db
from supportapp.models import OutboxMessage
from supportapp.services.giving import FREQUENCY_LABELS, PER_PERIOD, with_period
from supportapp.services.money import format_money_exact
from supportapp.services.outbox import OutboxError, check_address, public_url, queue_email

log = logging.getLogger(__name__)

MANAGE_ENDPOINT = "support_manage.request_link"
# Used only while the manage page (which owns the path) is not part of the app.
MANAGE_PATH = "/support/manage"
RECURRING_WORDS = "Recurring"  # a subscription's payment whose interval Stripe never said
_KEY_LENGTH = 200  # OutboxMessage.key


def manage_url():
    """The absolute address of the page where supporters manage their gifts."""
    try:
        return public_url(MANAGE_ENDPOINT)
    except BuildError:
        return current_app.config["PUBLIC_URL"].rstrip("/") + MANAGE_PATH


def queue_payment_emails(contribution):
    """Queue the receipt of a paid contribution and a notice of each new refund total, each
    once, in the caller's transaction; True when something was written.

    Call it wherever a handler may have made a contribution paid or refunded. It waits
    (writes nothing) until the payment's own event, a checkout or an invoice, is recorded.
    """
    payment_id = contribution.stripe_invoice_id or contribution.stripe_checkout_session_id
    if payment_id is None or contribution.paid_at is None:
        return False
    to = _recipient(contribution)
    if to is None:
        return False
    written = _queue_once(_key("receipt", payment_id), "receipt", to, "receipt",
                          lambda: _receipt_facts(contribution))
    if contribution.amount_refunded_minor:
        key = _key("refund", payment_id, str(contribution.amount_refunded_minor))
        written |= _queue_once(key, "refund_notice", to, "refund_notice",
                               lambda: _refund_facts(contribution, payment_id, to))
    return written


def _recipient(contribution):
    # Logs carry the contribution's id only, never the address.
    if not contribution.email:
        log.info("contribution %s: no email address known, no receipt", contribution.id)
        return None
    try:
        return check_address(contribution.email)
    except OutboxError:
        log.warning("contribution %s: email address unusable, no receipt", contribution.id)
        return None


def _key(kind, payment_id, *rest):
    key = ":".join((kind, payment_id, *rest))
    if len(key) <= _KEY_LENGTH:
        return key
    return f"{kind}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _queue_once(key, kind, to, template, facts):
    # Rendering is most of the cost: a payment told again (the thank-you page reloaded,
    # a refund of a gift already receipted) looks the key up first.
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)):
        return False
    return queue_email(key, kind, to, template, **facts())


def _receipt_facts(contribution):
    amount = format_money_exact(contribution.amount_minor, contribution.currency)
    frequency = contribution.frequency
    recurring = contribution.stripe_invoice_id is not None
    return {
        "amount": amount,
        "gift": with_period(amount, frequency) if frequency in PER_PERIOD else amount,
        "frequency": FREQUENCY_LABELS.get(frequency) or (RECURRING_WORDS if recurring
                                                         else FREQUENCY_LABELS["one_off"]),
        "recurring": recurring,
        "renewal": contribution.billing_reason == "subscription_cycle",
        "date": format_date(contribution.paid_at, format="long", locale="en"),
        # What Stripe's own receipts and the Dashboard show for the payment.
        "reference": (contribution.stripe_invoice_id or contribution.stripe_payment_intent_id
                      or contribution.stripe_checkout_session_id),
        "receipt_note": current_app.config.get("RECEIPT_NOTE") or "",
        "manage_url": manage_url(),
    }


def _refund_facts(contribution, payment_id, to):
    total, currency = contribution.amount_refunded_minor, contribution.currency
    return {
        **_receipt_facts(contribution),
        "refunded_now": format_money_exact(total - _told_before(payment_id, to), currency),
        "refunded_total": format_money_exact(total, currency),
        "in_full": total >= contribution.amount_minor,
        "remaining": format_money_exact(contribution.net_minor, currency),
    }


def _told_before(payment_id, to):
    """The largest refund total of this payment that a notice already told of (0 if none);
    read from the notices' keys, found through the recipient's indexed address."""
    prefix = _key("refund", payment_id, "")
    keys = db.session.scalars(select(OutboxMessage.key).where(
        OutboxMessage.to_address == to, OutboxMessage.kind == "refund_notice")).all()
    totals = [int(k[len(prefix):]) for k in keys
              if k.startswith(prefix) and k[len(prefix):].isdigit()]
    return max(totals, default=0)

"""Recurring gifts from Stripe's invoice and subscription events.

Every payment of a subscription (the first and each renewal) is one contribution, keyed by
its invoice. The recurring support's state (status, period, cancellation) is taken from
Stripe's current subscription, asked for before the event was claimed (stripe_facts) and
stamped with the time of that answer: events that arrive out of order, or in the same
second, still leave Stripe's latest state behind.
"""
from supportapp.models.recurring_support import INTERVALS
from supportapp.services import stripe_payload as p
from supportapp.services.contributions import (
    ATTRIBUTION_FIELDS,
    attribution,
    contribution_for,
    fill,
    fill_email,
    is_newer,
    recurring_support_for,
    set_status,
)
from supportapp.services.payment_fees import record_charge_fee
from supportapp.services.receipts import queue_payment_emails
from supportapp.services.recovery import invoice_paid, renewal_failed, support_ended
from supportapp.services.stripe_facts import subscription_of_invoice

FREQUENCY_OF_INTERVAL = {"month": "monthly", "year": "annual"}


def _invoice_records(invoice, amount_field, intent):
    """(support, contribution) for one payment of a subscription; (None, None) otherwise."""
    subscription_id, metadata = subscription_of_invoice(invoice)
    if subscription_id is None:
        return None, None  # not a subscription invoice: not one of ours
    invoice_id = p.required(p.stripe_id(invoice.get("id")), "invoice id")
    amount = p.required(p.amount(invoice.get(amount_field)), amount_field)
    currency = p.required(p.currency(invoice.get("currency")), "currency")
    frequency = metadata.get("frequency") if metadata.get("frequency") in INTERVALS else None
    support = recurring_support_for(subscription_id, amount, currency)
    fill(support, interval=INTERVALS.get(frequency),
         stripe_customer_id=p.stripe_id(invoice.get("customer")), **attribution(metadata))
    fill_email(support, p.text(invoice.get("customer_email"), 320))
    row = contribution_for({"stripe_invoice_id": invoice_id, "stripe_payment_intent_id": intent},
                           amount, currency)
    fill_email(row, support.email)
    fill(row, frequency=frequency or support.frequency, stripe_subscription_id=subscription_id,
         stripe_customer_id=support.stripe_customer_id,
         billing_reason=p.text(invoice.get("billing_reason"), 40),
         **{name: getattr(support, name) for name in ATTRIBUTION_FIELDS})
    return support, row


def on_invoice_paid(invoice, event, facts):
    support, row = _invoice_records(invoice, "amount_paid", facts.payment_intent)
    if support is None:
        return
    paid_at = p.timestamp(p.dig(invoice, "status_transitions", "paid_at"))
    fill(row, paid_at=paid_at or p.event_time(event))
    record_charge_fee(row, facts.balance)
    row.refresh_status()
    _follow_stripe(support, facts, None, "active", p.event_time(event))
    period_end = p.timestamp(p.dig(invoice, "lines", "data", 0, "period", "end"))
    if period_end and (support.current_period_end is None
                       or period_end > support.current_period_end):
        support.current_period_end = period_end
    fill(row, frequency=support.frequency)  # Stripe's subscription may just have said it
    queue_payment_emails(row)
    invoice_paid(row.stripe_invoice_id, row.paid_at)


def on_invoice_payment_failed(invoice, event, facts):
    support, row = _invoice_records(invoice, "amount_due", facts.payment_intent)
    if support is None:
        return
    fill(row, failed_at=p.event_time(event))
    row.refresh_status()
    _follow_stripe(support, facts, None, "past_due", p.event_time(event))
    renewal_failed(support, invoice, event, facts.decline_code, row)


def _price(subscription):
    item = p.mapping(p.dig(subscription, "items", "data", 0))
    price = p.mapping(item.get("price"))
    quantity = p.amount(item.get("quantity")) or 1
    amount = p.amount(price.get("unit_amount"))
    currency = p.currency(subscription.get("currency") or price.get("currency"))
    return (amount * quantity if amount is not None else None), currency, item, price


def on_subscription_changed(subscription, event, facts):
    subscription_id = p.required(p.stripe_id(subscription.get("id")), "subscription id")
    amount, currency, _, _ = _price(subscription)
    support = recurring_support_for(subscription_id, p.required(amount, "price.unit_amount"),
                                    p.required(currency, "currency"))
    fill(support, **attribution(subscription.get("metadata")))
    if event.get("type") == "customer.subscription.deleted":
        subscription = {**subscription, "status": "canceled"}
    _follow_stripe(support, facts, subscription, None, p.event_time(event))
    support_ended(support, p.event_time(event))


def _follow_stripe(support, facts, payload, fallback_status, at):
    """Take the support's state from Stripe's subscription as it was just asked (stamped
    with the time of the answer, so the latest answer is the one that stays); if Stripe
    does not know it, from the event's own payload, or else the status the event implies."""
    current = facts.subscription
    if current is not None:
        at = facts.fetched_at
    else:
        current = payload
    if current is None:
        set_status(support, fallback_status, at)
    else:
        apply_subscription(support, current, at)


def apply_subscription(support, subscription, at):
    """Take the support's state from Stripe's subscription (a plain dict) as it was at `at`,
    unless a later state is already recorded: from a webhook, or from Stripe's answer to a
    change the supporter made on the manage page."""
    amount, _, item, price = _price(subscription)
    interval = p.dig(price, "recurring", "interval")
    fill(support, stripe_customer_id=p.stripe_id(subscription.get("customer")),
         interval=interval if interval in FREQUENCY_OF_INTERVAL else None,
         started_at=p.timestamp(subscription.get("start_date")))
    if not is_newer(support, at):
        return
    status = p.text(subscription.get("status"), 30)
    set_status(support, status, at)
    if amount:
        support.amount_minor = amount
    if interval in FREQUENCY_OF_INTERVAL:  # the supporter may switch monthly <-> annual
        support.interval = interval
    support.cancel_at_period_end = subscription.get("cancel_at_period_end") is True
    support.cancelled_at = p.timestamp(subscription.get("canceled_at")) or (
        at if status == "canceled" else None)
    period_end = p.timestamp(item.get("current_period_end"))
    if period_end:
        support.current_period_end = period_end
    pause = p.mapping(subscription.get("pause_collection"))
    support.paused = bool(pause)
    support.paused_until = p.timestamp(pause.get("resumes_at")) if pause else None

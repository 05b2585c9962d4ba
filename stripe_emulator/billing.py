"""Subscriptions and their invoices: start, renew, update, cancel.

Callers hold the store lock. The lifecycle follows Stripe Billing: Checkout
creates the subscription `incomplete` with a `subscription_create` invoice,
which is finalized and paid, and the subscription becomes `active`; each
renewal (`advance`) opens a `subscription_cycle` invoice that is paid
off-session, or fails and leaves the subscription `past_due`. While
`pause_collection` is set, new invoices are not collected: they stay drafts,
are voided or are marked uncollectible, and the status does not change
(Stripe's "pause payment collection"; its other pause, status `paused`, is
not emulated). A failed renewal is tried again on the emulator's retry
schedule (`state.retry_days`, run by schedule.py as the clock moves); after
the last failed try the subscription is cancelled, marked unpaid or left
past_due (`state.after_retries`). Changes made through the API are in
`changes.py`.
"""

import copy
from datetime import UTC, datetime

from . import cards, payments, sepa
from .clock import add_interval, now
from .events import emit
from .ids import new_id
from .shapes import billing as shapes
from .wire import StripeError, not_found

DAY = 24 * 3600


def start_subscription(
    state, customer, method, prices, data, *, method_on_subscription=True, off_session=False
):
    """Subscribe `customer` to `prices` [(price, quantity)] and take the first payment.

    `method_on_subscription`: the card is the subscription's `default_payment_method`
    (else renewals charge the customer's default); `off_session`: the first payment is
    made without the customer (an API call, not Checkout)."""
    sub_id = new_id("sub")
    start = now()
    items = [
        shapes.subscription_item(sub_id, price, quantity, (start, period_end(price, start)))
        for price, quantity in prices
    ]
    sub_method = method["id"] if method_on_subscription else None
    sub = shapes.subscription(sub_id, customer["id"], items, sub_method, data)
    invoice = new_invoice(state, sub, "subscription_create", (start, start))
    state.store.add(sub)
    emit(state, "customer.subscription.created", sub)
    _open(state, invoice)
    # A SEPA debit still processing (None) makes the subscription active, as on Stripe.
    if _collect(state, invoice, method, off_session=off_session) is not False:
        set_status(state, sub, "active")
    return sub, invoice


def advance(state, sub_id):
    """Move a subscription into its next period and bill that period."""
    sub = get_subscription(state, sub_id)
    if sub["status"] == "canceled":
        raise StripeError(f"Subscription {sub_id} is canceled and cannot renew.", status=409)
    if sub["cancel_at_period_end"]:
        return _end(state, sub, at=_period(sub)[1]), None
    old_period = _period(sub)
    _resume_collection_if_due(state, sub, at=old_period[1])
    previous = {"items": copy.deepcopy(sub["items"]), "latest_invoice": sub["latest_invoice"]}
    anchor_day = datetime.fromtimestamp(sub["billing_cycle_anchor"], UTC).day
    for item in sub["items"]["data"]:
        start = item["current_period_end"]
        item["current_period_start"] = start
        item["current_period_end"] = period_end(item["price"], start, anchor_day)
    invoice = new_invoice(state, sub, "subscription_cycle", old_period)
    emit(state, "customer.subscription.updated", sub, previous)
    bill(state, sub, invoice)
    return sub, invoice


def bill(state, sub, invoice):
    """Finalize and charge a new invoice off-session, or hold it while collection is paused."""
    pause = sub["pause_collection"]
    if pause:
        _hold(state, invoice, pause["behavior"])
        return
    _open(state, invoice)
    paid = _collect(state, invoice, payment_method(state, sub), off_session=True)
    set_status(state, sub, "past_due" if paid is False else "active")


def payment_method(state, sub):
    """The card invoices are charged to: the subscription's, else the customer's default."""
    method = state.store.get(sub["default_payment_method"], "payment_method")
    if method is None:
        customer = state.store.get(sub["customer"], "customer")
        default = customer and customer["invoice_settings"]["default_payment_method"]
        method = state.store.get(default, "payment_method")
    return method


def pay_invoice(state, invoice_id):
    """Retry an open invoice with the subscription's card (POST /v1/invoices/:id/pay)."""
    invoice = state.store.get(invoice_id, "invoice")
    if invoice is None:
        raise not_found("invoice", invoice_id)
    if invoice["status"] != "open":
        raise StripeError(f"Invoice {invoice_id} is {invoice['status']} and cannot be paid.")
    sub = get_subscription(state, invoice["parent"]["subscription_details"]["subscription"])
    method = payment_method(state, sub)
    if method is None:
        raise StripeError(
            "This customer has no attached payment source or default payment method."
        )
    # A payment asked for through the API leaves the automatic retries' schedule as it is.
    paid = _collect(state, invoice, method, off_session=True, automatic=False)
    if paid is None:
        return invoice  # a SEPA debit, processing
    if not paid:
        decline = cards.decline_for(payments.card_of(state, method), off_session=True)
        raise decline.error()
    _settled(state, sub, invoice)
    return invoice


def retry(state, invoice_id):
    """Stripe's automatic retry of an open invoice that failed (schedule.py calls it when
    `next_payment_attempt` comes). After the last failed try, `state.after_retries` says
    what becomes of the subscription: as on Stripe, only when its latest invoice is unpaid.
    True when the invoice is paid."""
    invoice = state.store.get(invoice_id, "invoice")
    sub = get_subscription(state, invoice["parent"]["subscription_details"]["subscription"])
    paid = _collect(state, invoice, payment_method(state, sub), off_session=True)
    if paid:
        _settled(state, sub, invoice)
        return True
    if paid is None:
        return False  # a SEPA debit, processing: settles later
    if invoice["next_payment_attempt"] is None:
        latest = state.store.get(sub["latest_invoice"], "invoice")
        if latest is None or latest["status"] != "paid":
            _give_up(state, sub)
    return False


def _settled(state, sub, invoice):
    """A past-due (or unpaid) subscription is active again once its latest invoice is paid."""
    if sub["latest_invoice"] == invoice["id"] and sub["status"] in ("past_due", "unpaid"):
        set_status(state, sub, "active")


def _give_up(state, sub):
    if state.after_retries == "cancel":
        _end(state, sub, at=now(), reason="payment_failed")
    elif state.after_retries == "unpaid":
        set_status(state, sub, "unpaid")


def cancel(state, sub_id, details=None):
    """Cancel now (DELETE /v1/subscriptions/:id, or the portal's "cancel now")."""
    sub = get_subscription(state, sub_id)
    if sub["status"] == "canceled":
        raise StripeError(f"Subscription {sub_id} has already been canceled.")
    set_details(sub, details or {}, {})
    return _end(state, sub, at=now())


def _end(state, sub, at, reason="cancellation_requested"):
    sub.update(status="canceled", ended_at=at, cancel_at=None, cancel_at_period_end=False)
    sub["canceled_at"] = sub["canceled_at"] or now()
    sub["cancellation_details"]["reason"] = reason
    _stop_collection(state, sub)
    emit(state, "customer.subscription.deleted", sub)
    return sub


def _stop_collection(state, sub):
    """Stripe's default on cancellation: its open invoices stay open, but are no longer
    charged automatically (they can still be paid with POST /v1/invoices/:id/pay)."""
    for listed in state.store.oldest_first("invoice"):
        if listed["status"] == "open" and subscription_of(listed) == sub["id"]:
            invoice = state.store.get(listed["id"], "invoice")
            invoice.update(auto_advance=False, next_payment_attempt=None)


def subscription_of(invoice):
    """The id of the subscription an invoice bills, or None."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription")


def schedule_cancel(sub, at_period_end, previous):
    if at_period_end == sub["cancel_at_period_end"]:
        return
    for key in ("cancel_at", "cancel_at_period_end", "canceled_at", "cancellation_details"):
        previous[key] = copy.deepcopy(sub[key])
    sub["cancel_at_period_end"] = at_period_end
    sub["cancel_at"] = _period(sub)[1] if at_period_end else None
    sub["canceled_at"] = now() if at_period_end else None
    sub["cancellation_details"]["reason"] = "cancellation_requested" if at_period_end else None


def merge_metadata(sub, changes, previous):
    merged = {} if changes is None else dict(sub["metadata"])
    for key, value in (changes or {}).items():
        if value == "":
            merged.pop(key, None)  # an empty value unsets the key
        else:
            merged[key] = value
    if merged != sub["metadata"]:
        previous["metadata"] = sub["metadata"]
        sub["metadata"] = merged


def set_details(sub, details, previous):
    current = sub["cancellation_details"]
    changed = {k: v for k, v in details.items() if current.get(k) != v}
    if changed:
        previous["cancellation_details"] = dict(current)
        current.update(changed)


def set_status(state, sub, status):
    if sub["status"] != status:
        previous = {"status": sub["status"]}
        sub["status"] = status
        emit(state, "customer.subscription.updated", sub, previous)


def new_invoice(state, sub, reason, period):
    customer = state.store.get(sub["customer"], "customer")
    names = {
        item["price"]["id"]: state.store.get(item["price"]["product"])["name"]
        for item in sub["items"]["data"]
    }
    invoice = state.store.add(shapes.invoice(sub, customer, reason, period, names), payments=[])
    sub["latest_invoice"] = invoice["id"]
    return invoice


def _open(state, invoice):
    """Announce a draft invoice and finalize it, as Stripe does for subscriptions."""
    emit(state, "invoice.created", invoice)
    _finalize(state, invoice)


def _finalize(state, invoice):
    customer = state.store.get(invoice["customer"], "customer")
    sequence = customer["next_invoice_sequence"]
    customer["next_invoice_sequence"] += 1
    finalized = now()
    invoice.update(
        status="open",
        number=f"{customer['invoice_prefix']}-{sequence:04d}",
        effective_at=finalized,
        ending_balance=0,
    )
    invoice["status_transitions"]["finalized_at"] = finalized
    emit(state, "invoice.finalized", invoice)


def _hold(state, invoice, behavior):
    """An invoice made while collection is paused: never charged."""
    emit(state, "invoice.created", invoice)
    invoice["auto_advance"] = False
    if behavior == "keep_as_draft":
        return
    _finalize(state, invoice)
    transitions = invoice["status_transitions"]
    if behavior == "void":
        invoice["status"] = "void"
        transitions["voided_at"] = now()
        emit(state, "invoice.voided", invoice)
    else:
        invoice.update(
            status="uncollectible",
            status_details={"uncollectible": {"reason": "subscription_paused"}},
        )
        transitions["marked_uncollectible_at"] = now()
        emit(state, "invoice.marked_uncollectible", invoice)


def _resume_collection_if_due(state, sub, at):
    pause = sub["pause_collection"]
    if pause and pause["resumes_at"] is not None and pause["resumes_at"] <= at:
        sub["pause_collection"] = None
        emit(state, "customer.subscription.updated", sub, {"pause_collection": pause})


def _collect(state, invoice, method, off_session, automatic=True):
    """Try to pay an open invoice with `method`; True when it is paid, None while a SEPA
    debit processes (sepa.settle ends it). A failed automatic attempt sets when the next
    one comes (`next_payment_attempt`; None after the last)."""
    if method is None:  # nothing to charge: tried again on the same schedule
        invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
        _failed(state, invoice, automatic)
        return False
    intent, payment = _new_attempt(state, invoice)
    if sepa.is_sepa(method):
        sepa.start_debit(state, intent, method, "multi_use", invoice_id=invoice["id"],
                         payment_id=payment["id"])
        return None
    decline = cards.decline_for(payments.card_of(state, method), off_session)
    if decline:
        payments.fail(state, intent, method, decline)
        _failed(state, invoice, automatic)
        return False
    payments.succeed(state, intent, method)
    mark_paid(state, invoice, payment, intent)
    return True


def debit_succeeded(state, invoice, payment, intent):
    """A SEPA debit for the invoice succeeded: paid, and its subscription active again."""
    mark_paid(state, invoice, payment, intent)
    sub = state.store.get(subscription_of(invoice), "subscription")
    if sub is not None:
        _settled(state, sub, invoice)


def debit_failed(state, invoice):
    """A SEPA debit for the invoice failed: `invoice.payment_failed`, retried on the
    schedule, and the subscription is past due."""
    _failed(state, invoice, automatic=True)
    sub = state.store.get(subscription_of(invoice), "subscription")
    if sub is not None and sub["latest_invoice"] == invoice["id"] and sub["status"] == "active":
        set_status(state, sub, "past_due")


def mark_paid(state, invoice, payment, intent):
    """The invoice's payment `intent` succeeded: the invoice is paid (`invoice.paid`)."""
    paid_at = now()
    payment.update(status="paid", amount_paid=intent["amount"])
    payment["status_transitions"]["paid_at"] = paid_at
    invoice.update(
        status="paid",
        amount_paid=invoice["amount_paid"] + intent["amount"],
        amount_remaining=0,
        next_payment_attempt=None,
        auto_advance=False,
    )
    invoice["status_transitions"]["paid_at"] = paid_at
    emit(state, "invoice.paid", invoice)


def _failed(state, invoice, automatic):
    if automatic:
        invoice["next_payment_attempt"] = next_attempt(state, invoice["attempt_count"])
    emit(state, "invoice.payment_failed", invoice)


def next_attempt(state, attempts_made):
    """When the retry after `attempts_made` tries comes, or None when none is left."""
    retries_made = attempts_made - 1
    if retries_made >= len(state.retry_days):
        return None
    return now() + state.retry_days[retries_made] * DAY


def _new_attempt(state, invoice):
    """A PaymentIntent for the amount due, listed under the invoice's `payments`."""
    first = invoice["billing_reason"] == "subscription_create"
    intent = payments.create_intent(
        state,
        invoice["amount_remaining"],
        invoice["currency"],
        customer=invoice["customer"],
        description="Subscription creation" if first else "Subscription update",
    )
    payment = state.store.add(shapes.invoice_payment(invoice, intent["id"]))
    state.store.private[invoice["id"]]["payments"].insert(0, payment["id"])
    invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
    return intent, payment


def get_subscription(state, sub_id):
    """The stored subscription, or Stripe's 404."""
    sub = state.store.get(sub_id, "subscription")
    if sub is None:
        raise not_found("subscription", sub_id)
    return sub


def _period(sub):
    item = sub["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def period_end(price, start, anchor_day=None):
    recurring = price["recurring"]
    return add_interval(start, recurring["interval"], recurring["interval_count"], anchor_day)

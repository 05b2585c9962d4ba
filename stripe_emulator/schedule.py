"""Moving the emulator's clock forward, and running what falls due on the way.

Like advancing a Stripe test clock: every renewal (a subscription's period
end), every automatic retry of a failed invoice (`next_payment_attempt`) and
every pending SEPA debit's outcome (sepa.py) between now and the new time runs
in time order, each with the clock held at
its own moment, so the objects and events it makes carry that time. A
renewal that fails opens the retries of its invoice; a retry that fails sets
the next one, until the schedule (`state.retry_days`) is used up.

What is due is kept in a heap, so a year over a few hundred subscriptions is
a few thousand steps, not a scan of every object at each step. An item whose
object changed since it was queued (a subscription cancelled, an invoice
paid) is recognised when it comes up, because its due time is read again.
Callers hold the store lock.
"""

import heapq
import itertools
from dataclasses import dataclass

from . import billing, sepa
from .wire import StripeError

RENEWING = ("active", "past_due")  # subscriptions that renew at their period end
MAX_STEPS = 1_000_000  # far beyond any test's year; a bug must not spin forever


@dataclass(frozen=True)
class Step:
    """One piece of due work that ran."""

    at: int
    kind: str  # renewal | retry | settlement (a SEPA debit's outcome)
    subscription: str | None
    invoice: str | None
    paid: bool
    status: str  # the subscription's status afterwards

    def to_dict(self):
        return {
            "at": self.at,
            "kind": self.kind,
            "subscription": self.subscription,
            "invoice": self.invoice,
            "paid": self.paid,
            "status": self.status,
        }


def renewal_due(sub):
    """When a subscription renews next, or None (ended, not yet started, unpaid)."""
    if sub is None or sub["status"] not in RENEWING:
        return None
    return sub["items"]["data"][0]["current_period_end"]


def retry_due(state, invoice):
    """When Stripe tries an open invoice of a subscription again, or None."""
    if invoice is None or invoice["status"] != "open" or not invoice["auto_advance"]:
        return None
    if billing.subscription_of(invoice) is None:
        return None
    return invoice["next_payment_attempt"]


class _Queue:
    def __init__(self, until):
        self.until = until
        self._heap = []
        self._order = itertools.count()

    def push(self, at, kind, object_id):
        if at is not None and at <= self.until:
            heapq.heappush(self._heap, (at, next(self._order), kind, object_id))

    def pop(self):
        return heapq.heappop(self._heap) if self._heap else None


def advance_clock(state, to):
    """Move the clock to `to` (Unix seconds, not before now), running what falls due on
    the way, oldest first; returns the Steps that ran."""
    clock = state.clock
    if to < clock.now():
        raise StripeError(
            f"The clock only moves forward: it is {clock.now()}, and {to} is earlier.",
            param="to",
        )
    queue = _Queue(to)
    for sub in state.store.oldest_first("subscription"):
        queue.push(renewal_due(sub), "renewal", sub["id"])
    for invoice in state.store.oldest_first("invoice"):
        queue.push(retry_due(state, invoice), "retry", invoice["id"])
    for charge in state.store.oldest_first("charge"):
        queue.push(sepa.settles_at(state, charge), "settlement", charge["id"])
    steps = []
    try:
        for _ in range(MAX_STEPS):
            item = queue.pop()
            if item is None:
                break
            at, _, kind, object_id = item
            step = _run(state, queue, kind, object_id, at)
            if step is not None:
                steps.append(step)
        else:
            raise StripeError("The emulator's schedule did not settle.", status=500,
                              type="api_error")
        clock.hold(to)
    finally:
        clock.release()
        state.save_clock()
    return steps


def _run(state, queue, kind, object_id, at):
    store = state.store
    if kind == "settlement":
        return _settle(state, queue, object_id, at)
    if kind == "renewal":
        sub = store.get(object_id, "subscription")
        if renewal_due(sub) != at:
            return None  # ended, or already renewed by other means: stale
        moment = state.clock.hold(at)
        sub, invoice = billing.advance(state, object_id)
        queue.push(renewal_due(sub), "renewal", sub["id"])
        if invoice is not None:
            queue.push(retry_due(state, invoice), "retry", invoice["id"])
            _push_debit(state, queue, invoice)
        return Step(moment, kind, sub["id"], invoice and invoice["id"],
                    bool(invoice) and invoice["status"] == "paid", sub["status"])
    invoice = store.get(object_id, "invoice")
    if retry_due(state, invoice) != at:
        return None  # paid or voided meanwhile, or rescheduled
    moment = state.clock.hold(at)
    paid = billing.retry(state, object_id)
    queue.push(retry_due(state, invoice), "retry", invoice["id"])
    _push_debit(state, queue, invoice)
    sub = store.get(billing.subscription_of(invoice), "subscription")
    return Step(moment, kind, sub["id"], invoice["id"], paid, sub["status"])


def _settle(state, queue, charge_id, at):
    charge = state.store.get(charge_id, "charge")
    if sepa.settles_at(state, charge) != at:
        return None
    moment = state.clock.hold(at)
    paid = sepa.settle(state, charge_id)
    invoice = state.store.get(state.store.private[charge_id].get("invoice"), "invoice")
    sub = invoice and state.store.get(billing.subscription_of(invoice), "subscription")
    if invoice is not None:
        queue.push(retry_due(state, invoice), "retry", invoice["id"])
    return Step(moment, "settlement", sub and sub["id"], invoice and invoice["id"], paid,
                sub["status"] if sub else charge["status"])


def _push_debit(state, queue, invoice):
    """A SEPA debit the invoice's latest attempt started settles on the way too."""
    payments = state.store.private[invoice["id"]].get("payments") or []
    payment = state.store.get(payments[0]) if payments else None
    intent = payment and state.store.get(payment["payment"]["payment_intent"])
    charge = intent and state.store.get(intent["latest_charge"], "charge")
    queue.push(sepa.settles_at(state, charge), "settlement", charge and charge["id"])

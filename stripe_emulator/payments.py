"""Money movements: card payments, refunds and disputes.

Callers hold the store lock. Every change emits its event(s) as it happens,
so the event stream is in the order things took place.
"""

import copy

from . import cards, fees
from .events import emit
from .money import format_amount
from .shapes import methods as method_shapes
from .shapes import payments as shapes
from .wire import StripeError, not_found


def new_payment_method(state, card, email, exp_month=12, exp_year=2034, authenticated=False):
    """A card PaymentMethod; the number (which says how the card behaves) stays private."""
    method = method_shapes.payment_method(card, email, exp_month, exp_year)
    return state.store.add(method, number=card.number, authenticated=authenticated)


def card_of(state, method):
    """The test Card behind a PaymentMethod."""
    return cards.lookup(state.store.private[method["id"]]["number"])


def attach(state, method, customer_id):
    """Attach a PaymentMethod to a customer (`payment_method.attached`)."""
    method["customer"] = customer_id
    emit(state, "payment_method.attached", method)


def create_intent(state, amount, currency, **fields):
    return state.store.add(shapes.payment_intent(amount, currency, **fields))


def succeed(state, intent, method):
    """Charge the card: a succeeded Charge, then the PaymentIntent succeeds."""
    intent.update(payment_method=method["id"], last_payment_error=None)
    authenticated = state.store.private[method["id"]]["authenticated"]
    charge = state.store.add(shapes.charge(intent, method, authenticated))
    state.store.add(fees.charge_transaction(charge))
    emit(state, "charge.succeeded", charge)
    intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge["id"])
    emit(state, "payment_intent.succeeded", intent)
    return charge


def fail(state, intent, method, decline):
    """A declined or unauthenticated attempt; the intent can be retried."""
    intent.update(
        status="requires_payment_method",
        payment_method=None,
        last_payment_error=shapes.payment_error(decline, method),
    )
    emit(state, "payment_intent.payment_failed", intent)


def refund(state, params):
    charge = _charge_to_refund(state, params)
    remaining = charge["amount"] - charge["amount_refunded"]
    amount = params.get("amount", remaining)
    if amount > remaining:
        currency = charge["currency"]
        raise StripeError(
            f"Refund amount ({format_amount(amount, currency)}) is greater than unrefunded "
            f"amount on charge ({format_amount(remaining, currency)})",
            code="amount_too_large",
            param="amount",
        )
    obj = shapes.refund(charge, amount, params.get("reason"), params.get("metadata"))
    state.store.add(obj)
    state.store.add(fees.refund_transaction(obj))
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    charge["refunds"]["data"].insert(0, obj)
    emit(state, "charge.refunded", charge, previous)
    return obj


def _charge_to_refund(state, params):
    if "charge" in params and "payment_intent" in params:
        raise StripeError(
            "You may only specify one of these parameters: charge, payment_intent.",
            code="parameters_exclusive",
            param="payment_intent",
        )
    if "payment_intent" in params:
        intent = state.store.get(params["payment_intent"], "payment_intent")
        if intent is None:
            raise not_found("payment_intent", params["payment_intent"], "payment_intent")
        charge = state.store.get(intent["latest_charge"], "charge")
        if intent["status"] != "succeeded" or charge is None:
            raise StripeError(
                f"PaymentIntent {intent['id']} does not have a successful charge to refund.",
                param="payment_intent",
            )
    elif "charge" in params:
        charge = state.store.get(params["charge"], "charge")
        if charge is None:
            raise not_found("charge", params["charge"], "charge")
    else:
        raise StripeError(
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            code="parameter_missing",
            param="charge",
        )
    return _refundable(charge)


def _refundable(charge):
    if charge["disputed"]:
        raise StripeError(
            f"Charge {charge['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )
    if charge["refunded"]:
        raise StripeError(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    return charge


def open_dispute(state, charge_id, reason="fraudulent"):
    """The cardholder disputes the charge (test helper; Stripe's 0259 card)."""
    charge = state.store.get(charge_id, "charge")
    if charge is None:
        raise not_found("charge", charge_id)
    if charge["disputed"]:
        raise StripeError(f"Charge {charge_id} is already disputed.", status=409)
    charge["disputed"] = True
    obj = state.store.add(shapes.dispute(charge, reason))
    # Stripe embeds the dispute's balance transactions (withdrawal and fee) in full.
    withdrawal = state.store.add(fees.dispute_transaction(obj))
    obj["balance_transactions"].append(copy.deepcopy(withdrawal))
    emit(state, "charge.dispute.created", obj)
    return obj

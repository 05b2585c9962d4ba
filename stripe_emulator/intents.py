"""PaymentIntents made through the API: create, confirm, cancel.

A confirmation charges the PaymentMethod with the test card's outcome
(cards.py): success makes a Charge with its balance transaction
(`charge.succeeded`, `payment_intent.succeeded`); a decline answers 402
`card_error` and leaves the intent `requires_payment_method` with its
`last_payment_error` (`payment_intent.payment_failed`); a 3D Secure card
leaves it `requires_action`. Stripe's test PaymentMethod names
(`pm_card_visa`, ...) make a new PaymentMethod. Callers hold the store lock.
"""

import copy

from . import cards, payments
from .clock import now
from .customers import get_customer
from .events import emit
from .money import MAXIMUM_CHARGE, MINIMUM_CHARGE, check_currency, format_minimum
from .params import Arr, Bool, Int, Metadata, Obj, Str, missing
from .wire import StripeError, not_found

PAYMENT_METHOD_TYPES = {"card"}
_CONFIRM_FIELDS = {
    "payment_method": Str(),
    "receipt_email": Str(max_length=800),
    "return_url": Str(max_length=5000),
    "off_session": Bool(),
}
CREATE_FIELDS = {
    "amount": Int(minimum=0, maximum=MAXIMUM_CHARGE),
    "currency": Str(max_length=3),
    "customer": Str(),
    "description": Str(max_length=1000),
    "metadata": Metadata(),
    "payment_method_types": Arr(Str(max_length=5000)),
    "automatic_payment_methods": Obj(
        {"enabled": Bool(), "allow_redirects": Str(choices={"always", "never"})},
        required=["enabled"],
    ),
    "confirm": Bool(),
    "statement_descriptor_suffix": Str(max_length=22),
    **_CONFIRM_FIELDS,
}
CONFIRM_FIELDS = dict(_CONFIRM_FIELDS)
CANCEL_FIELDS = {
    "cancellation_reason": Str(
        choices={"abandoned", "duplicate", "fraudulent", "requested_by_customer"}
    ),
}
_CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


def create(state, params):
    """A new PaymentIntent (`payment_intent.created`), confirmed at once with `confirm`."""
    for name in ("amount", "currency"):
        if name not in params:
            raise missing(name)
    currency = check_currency(params["currency"], "currency")
    if params["amount"] < MINIMUM_CHARGE[currency]:
        raise StripeError(
            f"Amount must be at least {format_minimum(currency)}",
            code="amount_too_small",
            param="amount",
        )
    _check_types(params)
    customer_id = params.get("customer")
    if customer_id is not None:
        get_customer(state, customer_id, "customer")
    method = _method(state, params, customer_id)
    intent = payments.create_intent(
        state,
        params["amount"],
        currency,
        customer=customer_id,
        metadata=params.get("metadata"),
        description=params.get("description"),
    )
    intent["receipt_email"] = params.get("receipt_email")
    intent["statement_descriptor_suffix"] = params.get("statement_descriptor_suffix")
    if "payment_method_types" in params:
        intent["payment_method_types"] = params["payment_method_types"]
        intent["allowed_payment_method_types"] = list(params["payment_method_types"])
    else:
        # Stripe's default since 2023-08-16: the Dashboard's payment methods.
        allow = params.get("automatic_payment_methods", {}).get("allow_redirects", "always")
        intent["automatic_payment_methods"] = {"allow_redirects": allow, "enabled": True}
    if method is not None:
        intent.update(payment_method=method["id"], status="requires_confirmation")
    emit(state, "payment_intent.created", intent)
    if params.get("confirm"):
        _confirm(state, intent, method, params)
    return intent


def confirm(state, intent_id, params):
    """Confirm an intent with its (or the given) PaymentMethod."""
    intent = get_intent(state, intent_id)
    if intent["status"] not in _CONFIRMABLE:
        raise _unexpected_state(intent, "confirm", _CONFIRMABLE)
    method = _method(state, params, intent["customer"])
    if method is None:
        method = state.store.get(intent["payment_method"], "payment_method")
    if "receipt_email" in params:
        intent["receipt_email"] = params["receipt_email"]
    return _confirm(state, intent, method, params)


def cancel(state, intent_id, params):
    """Cancel an intent that has not succeeded (`payment_intent.canceled`)."""
    intent = get_intent(state, intent_id)
    if intent["status"] not in _CANCELABLE:
        raise _unexpected_state(intent, "cancel", _CANCELABLE)
    intent.update(
        status="canceled",
        canceled_at=now(),
        cancellation_reason=params.get("cancellation_reason"),
        next_action=None,
    )
    emit(state, "payment_intent.canceled", intent)
    return intent


def get_intent(state, intent_id):
    intent = state.store.get(intent_id, "payment_intent")
    if intent is None:
        raise not_found("payment_intent", intent_id, "intent", in_url=True)
    return intent


def _confirm(state, intent, method, params):
    if method is None:
        raise StripeError(
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "You can either update the PaymentIntent with a payment method and then confirm "
            "it again, or confirm it again directly with a payment method.",
            code="payment_intent_unexpected_state",
        )
    intent.update(payment_method=method["id"], status="requires_confirmation")
    card = payments.card_of(state, method)
    if card.outcome == cards.AUTHENTICATE and not state.store.private[method["id"]][
            "authenticated"]:
        intent.update(status="requires_action", next_action=_three_d_secure(intent))
        emit(state, "payment_intent.requires_action", intent)
        return intent
    # The 0341 card ("decline after attaching") only pays where Checkout takes it.
    decline = cards.decline_for(card, off_session=True)
    if decline:
        payments.fail(state, intent, method, decline)
        # Stripe's error names the intent (and card) the decline left behind.
        raise decline.error(
            {"payment_intent": copy.deepcopy(intent), "payment_method": copy.deepcopy(method)}
        )
    payments.succeed(state, intent, method)
    return intent


def _three_d_secure(intent):
    return {
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": None,
                           "source": intent["id"]},
    }


def _method(state, params, customer_id):
    """The PaymentMethod named by `payment_method` (a test name makes a new one), or None."""
    method_id = params.get("payment_method")
    if method_id is None:
        return None
    if method_id in cards.TEST_PAYMENT_METHODS:
        card = cards.lookup(method_id)
        return payments.new_payment_method(state, card, None)
    method = state.store.get(method_id, "payment_method")
    if method is None:
        raise not_found("payment_method", method_id, "payment_method")
    if method["customer"] is not None and method["customer"] != customer_id:
        raise StripeError(
            f"The provided PaymentMethod {method_id} belongs to the Customer "
            f"{method['customer']}. Please include the Customer in the `customer` parameter "
            "on the PaymentIntent.",
            param="payment_method",
        )
    return method


def _check_types(params):
    if "payment_method_types" in params and "automatic_payment_methods" in params:
        raise StripeError(
            "You may only specify one of these parameters: automatic_payment_methods, "
            "payment_method_types.",
            code="parameters_exclusive",
            param="payment_method_types",
        )
    for index, name in enumerate(params.get("payment_method_types", [])):
        if name not in PAYMENT_METHOD_TYPES:
            raise StripeError(
                f"The payment method type provided: {name} is invalid. The Stripe emulator "
                f"supports: {', '.join(sorted(PAYMENT_METHOD_TYPES))}.",
                param=f"payment_method_types[{index}]",
            )


def _unexpected_state(intent, action, allowed):
    if intent["status"] == "succeeded" and action == "confirm":
        message = ("You cannot confirm this PaymentIntent because it has already succeeded "
                   "after being previously confirmed.")
    else:
        message = (
            f"You cannot {action} this PaymentIntent because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
            f"may be {action}ed: {', '.join(allowed)}."
        )
    return StripeError(message, code="payment_intent_unexpected_state")


ATTACH_FIELDS = {"customer": Str()}


def attach(state, method_id, params):
    """`POST /v1/payment_methods/:id/attach` (a test name attaches a new PaymentMethod)."""
    if "customer" not in params:
        raise missing("customer")
    customer = get_customer(state, params["customer"], "customer")
    if method_id in cards.TEST_PAYMENT_METHODS:
        method = payments.new_payment_method(state, cards.lookup(method_id), customer["email"])
    else:
        method = state.store.get(method_id, "payment_method")
        if method is None:
            raise not_found("payment_method", method_id, "payment_method", in_url=True)
    if method["customer"] == customer["id"]:
        return method
    if method["customer"] is not None:
        raise StripeError(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
        )
    # Stripe checks a card when it is attached: only 0341 (renewals fail) gets through.
    decline = cards.decline_for(payments.card_of(state, method))
    if decline:
        raise decline.error()
    payments.attach(state, method, customer["id"])
    return method

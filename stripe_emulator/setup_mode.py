"""Checkout in setup mode: save a card for later payments, charge nothing.

A setup-mode session gets a SetupIntent when it is created. Completing it
with a card creates a PaymentMethod, attaches it to the session's customer
(if any) and marks the SetupIntent succeeded. As on Stripe, nothing becomes a
default payment method by itself: the integration sets the card on the
subscription (`default_payment_method`) or the customer
(`invoice_settings[default_payment_method]`) when it hears of the session.
Callers hold the store lock.
"""

from . import payments
from .events import emit
from .money import MINIMUM_CHARGE
from .params import Metadata, Obj, Str, missing
from .shapes import methods as shapes
from .shapes.payments import payment_error
from .wire import StripeError

SETUP_INTENT_DATA = Obj(
    {"description": Str(max_length=1000), "metadata": Metadata(), "on_behalf_of": Str()}
)

# Session parameters that only make sense when something is paid.
_PAYING_ONLY = ("line_items", "submit_type", "customer_creation")


def check_params(params):
    """Stripe's rules for creating a session in setup mode."""
    for name in _PAYING_ONLY:
        if name in params:
            raise StripeError(f"`{name}` cannot be used in `setup` mode.", param=name)
    if "currency" not in params:
        # Checkout's dynamic payment methods need a currency to pick from.
        raise missing("currency")
    if params["currency"].lower() not in MINIMUM_CHARGE:
        raise StripeError(
            f"Invalid currency: {params['currency']}. The Stripe emulator supports "
            f"{', '.join(MINIMUM_CHARGE)}.",
            param="currency",
        )


def start(state, session, params):
    """The SetupIntent a new setup-mode session completes (`setup_intent.created`)."""
    data = params.get("setup_intent_data", {})
    intent = state.store.add(
        shapes.setup_intent(session["customer"], data.get("metadata"), data.get("description"))
    )
    session["setup_intent"] = intent["id"]
    emit(state, "setup_intent.created", intent)
    return intent


def complete(state, session, method, decline):
    """Confirm the session's SetupIntent with `method`; False when the card is refused."""
    intent = state.store.get(session["setup_intent"], "setup_intent")
    if decline:
        intent["last_setup_error"] = payment_error(decline, method)
        emit(state, "setup_intent.setup_failed", intent)
        return False
    if session["customer"]:
        payments.attach(state, method, session["customer"])
    intent.update(status="succeeded", payment_method=method["id"], last_setup_error=None)
    emit(state, "setup_intent.succeeded", intent)
    return True

"""The customer portal: sessions, and what a supporter may do there.

A session created with `flow_data[type]=payment_method_update` opens on a card
form instead of the subscription list (Stripe's "deep link" flow); the new
card becomes the customer's default for invoices and replaces the card of
each of its subscriptions that names one.
"""

from . import billing, cards, changes, customers, payments, portal_configs
from .checkout import LOCALES
from .events import emit
from .params import Obj, Str
from .shapes.common import portal_flow, portal_session
from .wire import StripeError, not_found

_AFTER_COMPLETION = Obj(
    {
        "type": Str(choices={"hosted_confirmation", "portal_homepage", "redirect"}),
        "hosted_confirmation": Obj({"custom_message": Str(max_length=500)}),
        "redirect": Obj({"return_url": Str(max_length=5000)}, required=["return_url"]),
    },
    required=["type"],
)
CREATE_FIELDS = {
    "customer": Str(),
    "return_url": Str(max_length=5000),
    "configuration": Str(),
    "locale": Str(choices=LOCALES),
    "flow_data": Obj(
        {
            "type": Str(
                choices={
                    "payment_method_update",
                    "subscription_cancel",
                    "subscription_update",
                    "subscription_update_confirm",
                }
            ),
            "after_completion": _AFTER_COMPLETION,
        },
        required=["type"],
    ),
}


def create_session(state, params, base_url):
    if "customer" not in params:
        raise StripeError(
            "Missing required param: customer.", code="parameter_missing", param="customer"
        )
    customers.get_customer(state, params["customer"], "customer")
    config = portal_configs.get(state, params.get("configuration", portal_configs.DEFAULT_ID))
    flow = _flow(params.get("flow_data"))
    session = portal_session(
        params["customer"], params.get("return_url"), base_url, params.get("locale"), flow
    )
    session["configuration"] = config["id"]
    session["return_url"] = session["return_url"] or config["default_return_url"]
    return state.store.add(session)


def _flow(data):
    if data is None:
        return None
    if data["type"] != "payment_method_update":
        raise StripeError(
            "The Stripe emulator's portal only supports flow_data[type]=payment_method_update.",
            param="flow_data[type]",
        )
    after = data.get("after_completion", {"type": "portal_homepage"})
    if after["type"] == "redirect" and "redirect" not in after:
        raise StripeError(
            "Missing required param: flow_data[after_completion][redirect].",
            code="parameter_missing",
            param="flow_data[after_completion][redirect]",
        )
    return portal_flow(data["type"], after)


def get_session(state, session_id):
    session = state.store.get(session_id, "billing_portal.session")
    if session is None:
        raise not_found("billing_portal.session", session_id)
    return session


def subscriptions(state, session):
    """The customer's subscriptions, newest first, canceled ones included."""
    return [
        sub
        for sub in state.store.newest_first("subscription")
        if sub["customer"] == session["customer"]
    ]


def act(state, session, sub_id, action):
    """Apply a portal button: cancel at period end, cancel now, or renew."""
    sub = state.store.get(sub_id, "subscription")
    if sub is None or sub["customer"] != session["customer"]:
        raise not_found("subscription", sub_id)
    if action == "cancel_at_period_end":
        return changes.update(state, sub_id, {"cancel_at_period_end": True})
    if action == "renew":
        return changes.update(state, sub_id, {"cancel_at_period_end": False})
    if action == "cancel_now":
        return billing.cancel(state, sub_id)
    raise StripeError(f"Unknown portal action: {action}", param="action")


def update_card(state, session, card_number, exp_month, exp_year):
    """Save a new card as the customer's default; None, or the decline's message."""
    customer = customers.get_customer(state, session["customer"])
    card = cards.lookup(card_number)  # CardInputError: the form says so
    decline = cards.decline_for(card)
    if decline:
        return decline.message
    method = payments.new_payment_method(state, card, customer["email"], exp_month, exp_year)
    payments.attach(state, method, customer["id"])
    previous = {}
    customers.set_default_method(customer, method["id"], previous)
    emit(state, "customer.updated", customer, previous)
    for sub in subscriptions(state, session):
        if sub["status"] != "canceled" and sub["default_payment_method"]:
            changes.update(state, sub["id"], {"default_payment_method": method["id"]})
    return None

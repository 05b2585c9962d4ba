"""The customer portal: sessions, and what a supporter may do there."""

from . import billing
from .checkout import LOCALES
from .params import Str
from .shapes.common import portal_session
from .wire import StripeError, not_found

CREATE_FIELDS = {
    "customer": Str(),
    "return_url": Str(max_length=5000),
    "configuration": Str(),
    "locale": Str(choices=LOCALES),
}


def create_session(state, params, base_url):
    if "customer" not in params:
        raise StripeError(
            "Missing required param: customer.", code="parameter_missing", param="customer"
        )
    if state.store.get(params["customer"], "customer") is None:
        raise not_found("customer", params["customer"], "customer")
    session = portal_session(
        params["customer"], params.get("return_url"), base_url, params.get("locale")
    )
    return state.store.add(session)


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
        return billing.update(state, sub_id, {"cancel_at_period_end": True})
    if action == "renew":
        return billing.update(state, sub_id, {"cancel_at_period_end": False})
    if action == "cancel_now":
        return billing.cancel(state, sub_id)
    raise StripeError(f"Unknown portal action: {action}", param="action")

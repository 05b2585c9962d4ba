"""Customers: create, update (including the default card for invoices) and delete.

Deleting a customer cancels its subscriptions first, as Stripe does; the
customer then answers as Stripe's deleted stub (`{"id", "object", "deleted":
true}`) on retrieve and is left out of lists. Callers hold the store lock.
"""

import copy
import re

from . import billing
from .clock import frozen
from .events import emit
from .params import Metadata, Obj, Str
from .shapes.common import customer as new_customer
from .wire import StripeError, not_found

CREATE_FIELDS = {
    "email": Str(max_length=512),
    "name": Str(max_length=256),
    "description": Str(max_length=350),
    "phone": Str(max_length=20),
    "metadata": Metadata(),
    "test_clock": Str(),
}
UPDATE_FIELDS = {
    "email": Str(max_length=512, unsettable=True),
    "name": Str(max_length=256, unsettable=True),
    "description": Str(max_length=350, unsettable=True),
    "phone": Str(max_length=20, unsettable=True),
    "metadata": Metadata(for_update=True),
    "invoice_settings": Obj({"default_payment_method": Str(unsettable=True)}),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def create(state, params):
    """A new customer (`customer.created`); with `test_clock`, attached to that test
    clock and created at its frozen time."""
    _check_email(params)
    test_clock = None
    if "test_clock" in params:
        test_clock = state.store.get(params["test_clock"], "test_helpers.test_clock")
        if test_clock is None:
            raise not_found("test_clock", params["test_clock"], "test_clock")
    with frozen(test_clock):
        customer = state.store.add(new_customer(**params))
        emit(state, "customer.created", customer)
    return customer


def update(state, customer_id, params):
    """Change a customer's details (`customer.updated` with previous_attributes)."""
    customer = get_customer(state, customer_id)
    _check_email(params)
    settings = params.get("invoice_settings", {})
    if settings.get("default_payment_method"):
        _check_method(state, customer, settings["default_payment_method"])
    previous = {}
    for name in ("email", "name", "description", "phone"):
        if name in params and params[name] != customer[name]:
            previous[name] = customer[name]
            customer[name] = params[name]
    if "metadata" in params:
        billing.merge_metadata(customer, params["metadata"], previous)
    if "default_payment_method" in settings:
        set_default_method(customer, settings["default_payment_method"], previous)
    if previous:
        emit(state, "customer.updated", customer, previous)
    return customer


def set_default_method(customer, method_id, previous):
    """Make `method_id` (or None) the card the customer's invoices are charged to."""
    current = customer["invoice_settings"]
    if current["default_payment_method"] != method_id:
        previous["invoice_settings"] = copy.deepcopy(current)
        current["default_payment_method"] = method_id


def delete(state, customer_id):
    """Cancel the customer's subscriptions, then delete it (`customer.deleted`)."""
    customer = get_customer(state, customer_id)
    for sub in state.store.newest_first("subscription"):
        if sub["customer"] == customer_id and sub["status"] != "canceled":
            billing.cancel(state, sub["id"])
    emit(state, "customer.deleted", customer)
    return state.store.mark_deleted(customer_id)


def get_customer(state, customer_id, param="id"):
    """The stored (not deleted) customer, or Stripe's 404."""
    customer = state.store.get(customer_id, "customer")
    if customer is None:
        raise not_found("customer", customer_id, param)
    return customer


def _check_method(state, customer, method_id):
    param = "invoice_settings[default_payment_method]"
    method = state.store.get(method_id, "payment_method")
    if method is None:
        raise not_found("payment_method", method_id, param)
    if method["customer"] != customer["id"]:
        raise StripeError(
            f"The customer does not have a payment method with the ID {method_id}. The "
            "payment method must be attached to the customer.",
            param=param,
        )


def _check_email(params):
    email = params.get("email")
    if email is not None and not _EMAIL.match(email):
        raise StripeError(f"Invalid email address: {email}", code="email_invalid", param="email")

"""Endpoints that create or change objects."""

from flask import request

from .. import billing, changes, checkout, customers, payments, portal, test_clocks
from ..clock import frozen
from ..params import Int, Metadata, Str
from .core import bp, endpoint

_REFUND_FIELDS = {
    "charge": Str(),
    "payment_intent": Str(),
    "amount": Int(minimum=1),
    "reason": Str(choices={"duplicate", "fraudulent", "requested_by_customer"}),
    "metadata": Metadata(),
}


@bp.post("/checkout/sessions")
@endpoint(checkout.CREATE_FIELDS, "checkout.session")
def create_checkout_session(state, params):
    return checkout.create_session(state, params, request.host_url)


@bp.post("/checkout/sessions/<session_id>/expire")
@endpoint({}, "checkout.session")
def expire_checkout_session(state, params, session_id):
    return checkout.expire(state, session_id)


@bp.post("/customers")
@endpoint(customers.CREATE_FIELDS, "customer")
def create_customer(state, params):
    return customers.create(state, params_without_expand(params))


@bp.post("/customers/<customer_id>")
@endpoint(customers.UPDATE_FIELDS, "customer")
def update_customer(state, params, customer_id):
    with on_its_clock(state, customer_id):
        return customers.update(state, customer_id, params_without_expand(params))


@bp.delete("/customers/<customer_id>")
@endpoint({}, "customer")
def delete_customer(state, params, customer_id):
    with on_its_clock(state, customer_id):
        return customers.delete(state, customer_id)


@bp.post("/refunds")
@endpoint(_REFUND_FIELDS, "refund")
def create_refund(state, params):
    return payments.refund(state, params)


@bp.post("/subscriptions/<sub_id>")
@endpoint(changes.UPDATE_FIELDS, "subscription")
def update_subscription(state, params, sub_id):
    with on_its_clock(state, sub_id):
        return changes.update(state, sub_id, params_without_expand(params))


@bp.delete("/subscriptions/<sub_id>")
@endpoint(changes.CANCEL_FIELDS, "subscription")
def cancel_subscription(state, params, sub_id):
    with on_its_clock(state, sub_id):
        return billing.cancel(state, sub_id, params.get("cancellation_details"))


@bp.post("/invoices/<invoice_id>/pay")
@endpoint({}, "invoice")
def pay_invoice(state, params, invoice_id):
    with on_its_clock(state, invoice_id):
        return billing.pay_invoice(state, invoice_id)


@bp.post("/test_helpers/test_clocks")
@endpoint(test_clocks.CREATE_FIELDS, test_clocks.OBJECT)
def create_test_clock(state, params):
    return test_clocks.create(state, params)


@bp.post("/test_helpers/test_clocks/<clock_id>/advance")
@endpoint(test_clocks.ADVANCE_FIELDS, test_clocks.OBJECT)
def advance_test_clock(state, params, clock_id):
    return test_clocks.advance(state, clock_id, params)


@bp.delete("/test_helpers/test_clocks/<clock_id>")
@endpoint({}, test_clocks.OBJECT)
def delete_test_clock(state, params, clock_id):
    return test_clocks.delete(state, clock_id)


@bp.post("/billing_portal/sessions")
@endpoint(portal.CREATE_FIELDS, "billing_portal.session")
def create_portal_session(state, params):
    return portal.create_session(state, params, request.host_url)


def on_its_clock(state, object_id):
    """Work on a customer, subscription or invoice at the time of its test clock."""
    return frozen(test_clocks.of(state, state.store.get(object_id)))


def params_without_expand(params):
    return {key: value for key, value in params.items() if key != "expand"}


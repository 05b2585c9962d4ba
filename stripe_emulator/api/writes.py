"""Endpoints that create or change objects."""

from flask import request

from .. import billing, changes, checkout, customers, payments, portal
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
    return customers.update(state, customer_id, params_without_expand(params))


@bp.delete("/customers/<customer_id>")
@endpoint({}, "customer")
def delete_customer(state, params, customer_id):
    return customers.delete(state, customer_id)


@bp.post("/refunds")
@endpoint(_REFUND_FIELDS, "refund")
def create_refund(state, params):
    return payments.refund(state, params)


@bp.post("/subscriptions/<sub_id>")
@endpoint(changes.UPDATE_FIELDS, "subscription")
def update_subscription(state, params, sub_id):
    return changes.update(state, sub_id, params_without_expand(params))


@bp.delete("/subscriptions/<sub_id>")
@endpoint(changes.CANCEL_FIELDS, "subscription")
def cancel_subscription(state, params, sub_id):
    return billing.cancel(state, sub_id, params.get("cancellation_details"))


@bp.post("/invoices/<invoice_id>/pay")
@endpoint({}, "invoice")
def pay_invoice(state, params, invoice_id):
    return billing.pay_invoice(state, invoice_id)


@bp.post("/billing_portal/sessions")
@endpoint(portal.CREATE_FIELDS, "billing_portal.session")
def create_portal_session(state, params):
    return portal.create_session(state, params, request.host_url)


def params_without_expand(params):
    return {key: value for key, value in params.items() if key != "expand"}


"""Endpoints that create or change objects."""

from flask import request

from .. import billing, checkout, payments, portal
from ..events import emit
from ..params import Bool, Int, Metadata, Obj, Str
from ..shapes.common import customer
from ..wire import StripeError
from .core import bp, endpoint

_CUSTOMER_FIELDS = {
    "email": Str(max_length=512),
    "name": Str(max_length=256),
    "description": Str(max_length=350),
    "phone": Str(max_length=20),
    "metadata": Metadata(),
}
_REFUND_FIELDS = {
    "charge": Str(),
    "payment_intent": Str(),
    "amount": Int(minimum=1),
    "reason": Str(choices={"duplicate", "fraudulent", "requested_by_customer"}),
    "metadata": Metadata(),
}
_CANCELLATION_DETAILS = Obj(
    {
        "comment": Str(max_length=5000, unsettable=True),
        "feedback": Str(
            choices={
                "customer_service",
                "low_quality",
                "missing_features",
                "other",
                "switched_service",
                "too_complex",
                "too_expensive",
                "unused",
            },
            unsettable=True,
        ),
    }
)
_SUBSCRIPTION_UPDATE_FIELDS = {
    "cancel_at_period_end": Bool(),
    "metadata": Metadata(for_update=True),
    "cancellation_details": _CANCELLATION_DETAILS,
    "description": Str(max_length=500, unsettable=True),
}
_SUBSCRIPTION_CANCEL_FIELDS = {
    "cancellation_details": _CANCELLATION_DETAILS,
    "invoice_now": Bool(),
    "prorate": Bool(),
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
@endpoint(_CUSTOMER_FIELDS, "customer")
def create_customer(state, params):
    _check_email(params)
    obj = state.store.add(customer(**params_without_expand(params)))
    emit(state, "customer.created", obj)
    return obj


@bp.post("/refunds")
@endpoint(_REFUND_FIELDS, "refund")
def create_refund(state, params):
    return payments.refund(state, params)


@bp.post("/subscriptions/<sub_id>")
@endpoint(_SUBSCRIPTION_UPDATE_FIELDS, "subscription")
def update_subscription(state, params, sub_id):
    return billing.update(state, sub_id, params_without_expand(params))


@bp.delete("/subscriptions/<sub_id>")
@endpoint(_SUBSCRIPTION_CANCEL_FIELDS, "subscription")
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


def _check_email(params):
    if "email" in params and "@" not in params["email"]:
        raise StripeError(
            f"Invalid email address: {params['email']}", code="email_invalid", param="email"
        )

"""Checkout Sessions and their line items (`item` objects)."""

import copy

from ..clock import now
from ..ids import new_id
from .common import empty_address


def line_item(price_obj, product_obj, quantity, metadata=None):
    amount = price_obj["unit_amount"] * quantity
    return {
        "id": new_id("li"),
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price_obj["currency"],
        "description": product_obj["name"],
        "price": copy.deepcopy(price_obj),
        "quantity": quantity,
        "metadata": metadata,
        "adjustable_quantity": None,
    }


def session(params, items, base_url):
    """A new, open session built from validated create params."""
    session_id = new_id("cs_test")
    mode = params["mode"]
    setup_mode = mode == "setup"
    total = None if setup_mode else sum(item["amount_total"] for item in items)
    payment_mode = mode == "payment"
    return {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": params.get("allow_promotion_codes"),
        "allowed_payment_method_types": None,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "status": None, "provider": None},
        "billing_address_collection": params.get("billing_address_collection"),
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"),
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": now(),
        "currency": items[0]["currency"] if items else params["currency"].lower(),
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": dict.fromkeys(
            ("after_submit", "shipping_address", "submit", "terms_of_service_acceptance")
        ),
        "customer": params.get("customer"),
        "customer_account": None,
        "customer_creation": params.get("customer_creation", "if_required")
        if payment_mode
        else None,
        "customer_details": None,
        "customer_email": params.get("customer_email"),
        "discounts": [],
        "expires_at": params.get("expires_at") or now() + 24 * 3600,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": _invoice_creation() if payment_mode else None,
        "livemode": False,
        "locale": params.get("locale"),
        "managed_payments": None,
        "metadata": params.get("metadata") or {},
        "mode": mode,
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always" if mode == "subscription" else None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": list(dict.fromkeys(params.get("payment_method_types") or ["card"])),
        "payment_status": "no_payment_required" if setup_mode else "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": params.get("submit_type"),
        "subscription": None,
        "success_url": params.get("success_url"),
        "total_details": None
        if setup_mode
        else {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted_page",
        "url": f"{base_url}c/pay/{session_id}",
        "wallet_options": None,
    }


def customer_details(email):
    """What Checkout collected from the payer (set when the session completes)."""
    return {
        "address": {**empty_address(), "country": "US"},
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def collected_information():
    return {"business_name": None, "individual_name": None, "shipping_details": None}


def _invoice_creation():
    return {
        "enabled": False,
        "invoice_data": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": None,
            "metadata": {},
            "rendering_options": None,
        },
    }

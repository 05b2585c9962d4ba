"""Customers, products, prices, events, portal sessions and list objects."""

from ..clock import now
from ..ids import new_id, token

API_VERSION = "2026-10-28.endive"


def empty_address():
    return dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))


def list_object(data, url, has_more=False):
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def customer(email=None, name=None, description=None, phone=None, metadata=None):
    return {
        "id": new_id("cus"),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": description,
        "discount": None,
        "email": email,
        "invoice_prefix": token(8).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": metadata or {},
        "name": name,
        "next_invoice_sequence": 1,
        "phone": phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def product(name, description=None, metadata=None, images=None):
    return {
        "id": new_id("prod"),
        "object": "product",
        "active": False,  # inline product_data creates an archived product
        "created": now(),
        "default_price": None,
        "description": description,
        "images": images or [],
        "livemode": False,
        "marketing_features": [],
        "metadata": metadata or {},
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "unit_label": None,
        "updated": now(),
        "url": None,
        "tax_details": None,
        "type": "service",
    }


def price(product_id, currency, unit_amount, recurring=None, tax_behavior=None):
    if recurring is not None:
        recurring = {
            "interval": recurring["interval"],
            "interval_count": recurring.get("interval_count", 1),
            "meter": None,
            "usage_type": "licensed",
            "trial_period_days": None,
        }
    return {
        "id": new_id("price"),
        "object": "price",
        "active": False,  # inline price_data creates an inactive price
        "billing_scheme": "per_unit",
        "created": now(),
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": tax_behavior or "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def plan(price_obj):
    """The legacy Plan view of a recurring price, as subscription items carry it."""
    recurring = price_obj["recurring"]
    return {
        "id": price_obj["id"],
        "object": "plan",
        "active": price_obj["active"],
        "amount": price_obj["unit_amount"],
        "amount_decimal": price_obj["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price_obj["created"],
        "currency": price_obj["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": {},
        "meter": None,
        "nickname": None,
        "product": price_obj["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def event(event_type, data, request_id=None, idempotency_key=None, pending_webhooks=0):
    return {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": now(),
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }


def portal_session(customer_id, return_url, base_url, locale=None, flow=None):
    session_id = new_id("bps")
    return {
        "id": session_id,
        "object": "billing_portal.session",
        "configuration": "bpc_emulatordefault",
        "created": now(),
        "customer": customer_id,
        "flow": flow,
        "livemode": False,
        "locale": locale,
        "on_behalf_of": None,
        "return_url": return_url,
        "url": f"{base_url}p/session/{session_id}",
        "customer_account": None,
    }


def portal_flow(flow_type, after_completion):
    """A portal session's `flow` from validated `flow_data`."""
    confirmation = after_completion.get("hosted_confirmation", {})
    return {
        "after_completion": {
            "hosted_confirmation": {"custom_message": confirmation.get("custom_message")}
            if after_completion["type"] == "hosted_confirmation"
            else None,
            "redirect": after_completion.get("redirect")
            if after_completion["type"] == "redirect"
            else None,
            "type": after_completion["type"],
        },
        "subscription_cancel": None,
        "subscription_update": None,
        "subscription_update_confirm": None,
        "type": flow_type,
    }

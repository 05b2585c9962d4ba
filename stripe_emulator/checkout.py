"""Checkout Sessions: create (with Stripe's validation rules) and expire.

Completing a session with a card is in `pay.py`. Callers hold the store lock.
"""

import re
from urllib.parse import urlsplit

from . import clock, sepa, setup_mode
from .events import emit
from .money import MAXIMUM_CHARGE, MINIMUM_CHARGE, format_minimum
from .params import Arr, Bool, Int, Metadata, Obj, Str, missing
from .shapes import checkout as shapes
from .shapes.common import price as new_price
from .shapes.common import product as new_product
from .wire import StripeError, not_found

INTERVALS = {"day", "week", "month", "year"}
# The payment methods the hosted page offers (with the currencies each takes; None: all).
PAYMENT_METHOD_TYPES = {"card": None, "sepa_debit": sepa.CURRENCIES}
# fmt: off
LOCALES = {
    "auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil",
    "fr", "fr-CA", "hi-IN", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb",
    "nl", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK",
    "zh-TW",
}
# fmt: on
# The longest billing interval Stripe allows is three years.
MAX_INTERVAL_COUNT = {"day": 1095, "week": 156, "month": 36, "year": 3}

_PRICE_DATA = Obj(
    {
        "currency": Str(max_length=3),
        "product": Str(),
        "product_data": Obj(
            {
                "name": Str(max_length=250),
                "description": Str(max_length=40000),
                "images": Arr(Str(max_length=2048), max_items=8),
                "metadata": Metadata(),
            },
            required=["name"],
        ),
        "recurring": Obj(
            {"interval": Str(choices=INTERVALS), "interval_count": Int(minimum=1)},
            required=["interval"],
        ),
        "tax_behavior": Str(choices={"exclusive", "inclusive", "unspecified"}),
        "unit_amount": Int(minimum=0, maximum=MAXIMUM_CHARGE),
    },
    required=["currency"],
)

CREATE_FIELDS = {
    "mode": Str(choices={"payment", "setup", "subscription"}),
    "line_items": Arr(
        Obj(
            {
                "price": Str(),
                "price_data": _PRICE_DATA,
                "quantity": Int(minimum=1),
                "metadata": Metadata(),
            }
        ),
        max_items=100,
    ),
    "success_url": Str(max_length=5000),
    "cancel_url": Str(max_length=5000),
    "customer": Str(),
    "customer_email": Str(max_length=800),
    "customer_creation": Str(choices={"always", "if_required"}),
    "client_reference_id": Str(max_length=200),
    "metadata": Metadata(),
    "payment_intent_data": Obj(
        {
            "description": Str(max_length=1000),
            "metadata": Metadata(),
            "receipt_email": Str(max_length=800),
            "statement_descriptor": Str(max_length=22),
            "statement_descriptor_suffix": Str(max_length=22),
        }
    ),
    "subscription_data": Obj({"description": Str(max_length=500), "metadata": Metadata()}),
    "setup_intent_data": setup_mode.SETUP_INTENT_DATA,
    "currency": Str(max_length=3),
    "submit_type": Str(choices={"auto", "book", "donate", "pay", "subscribe"}),
    "expires_at": Int(),
    "locale": Str(choices=LOCALES),
    "ui_mode": Str(choices={"elements", "embedded_page", "form", "hosted_page"}),
    "billing_address_collection": Str(choices={"auto", "required"}),
    "allow_promotion_codes": Bool(),
    "payment_method_types": Arr(Str(choices=set(PAYMENT_METHOD_TYPES)), max_items=10),
}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_session(state, params, base_url):
    """Create an open session from validated params; `base_url` hosts its page."""
    _check_session(state, params)
    lines = params.get("line_items", [])
    items = [_line_item(state, line, i) for i, line in enumerate(lines)]
    if params["mode"] != "setup":
        _check_amounts(params, items)
    _check_payment_method_types(params, items)
    session = shapes.session(params, items, base_url)
    if params["mode"] == "setup":
        setup_mode.start(state, session, params)
    return state.store.add(
        session,
        line_items=items,
        payment_intent_data=params.get("payment_intent_data", {}),
        subscription_data=params.get("subscription_data", {}),
    )


def expire(state, session_id):
    session = get_session(state, session_id)
    if session["status"] != "open":
        raise StripeError(
            f'Only Checkout Sessions with a status in ["open"] can be expired; '
            f"{session_id} is {session['status']}."
        )
    return _expire(state, session)


def get_session(state, session_id):
    """The stored session, expired first if its `expires_at` has passed."""
    session = state.store.get(session_id, "checkout.session")
    if session is None:
        raise not_found("checkout.session", session_id)
    if session["status"] == "open" and session["expires_at"] <= clock.now():
        _expire(state, session)
    return session


def _expire(state, session):
    session.update(status="expired", url=None)
    intent = state.store.get(session["payment_intent"], "payment_intent")
    if intent is not None and intent["status"] != "succeeded":
        intent.update(status="canceled", canceled_at=clock.now(), cancellation_reason="abandoned")
    setup_intent = state.store.get(session["setup_intent"], "setup_intent")
    if setup_intent is not None and setup_intent["status"] != "succeeded":
        setup_intent.update(status="canceled", cancellation_reason="abandoned")
    emit(state, "checkout.session.expired", session)
    return session


def _check_session(state, params):
    mode = params.get("mode")
    if mode is None:
        raise missing("mode")
    if params.get("ui_mode", "hosted_page") != "hosted_page":
        raise StripeError("The Stripe emulator only serves ui_mode hosted_page.", param="ui_mode")
    if mode == "setup":
        setup_mode.check_params(params)
    elif not params.get("line_items"):
        raise missing("line_items")
    _only_in_mode(params, "setup_intent_data", "setup")
    _only_in_mode(params, "customer_creation", "payment")
    _only_in_mode(params, "payment_intent_data", "payment")
    _only_in_mode(params, "subscription_data", "subscription")
    if "customer" in params and "customer_email" in params:
        raise StripeError(
            "You may only specify one of these parameters: customer, customer_email.",
            code="parameters_exclusive",
            param="customer_email",
        )
    if "customer" in params and state.store.get(params["customer"], "customer") is None:
        raise not_found("customer", params["customer"], "customer")
    if "customer_email" in params and not _EMAIL.match(params["customer_email"]):
        raise StripeError(
            f"Invalid email address: {params['customer_email']}",
            code="email_invalid",
            param="customer_email",
        )
    for name in ("success_url", "cancel_url"):
        if name in params and not _valid_url(params[name]):
            raise StripeError("Not a valid URL", code="url_invalid", param=name)
    if "expires_at" in params:
        _check_expires_at(params["expires_at"])


def _check_payment_method_types(params, items):
    types = params.get("payment_method_types")
    if not types:
        return
    if params["mode"] == "setup" and "sepa_debit" in types:
        raise StripeError("The Stripe emulator offers sepa_debit in payment and subscription "
                          "mode only.", param="payment_method_types")
    currency = items[0]["currency"] if items else params["currency"].lower()
    for name in types:
        allowed = PAYMENT_METHOD_TYPES[name]
        if allowed is not None and currency not in allowed:
            raise StripeError(
                f"The currency provided ({currency}) is invalid for one or more payment "
                f"method types on this Checkout Session. The payment method `{name}` "
                f"supports the following currencies: {', '.join(allowed)}.",
                param="payment_method_types",
            )


def _only_in_mode(params, name, mode):
    if name in params and params["mode"] != mode:
        raise StripeError(f"`{name}` can only be used in `{mode}` mode.", param=name)


def _valid_url(url):
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _check_expires_at(expires_at):
    # Stripe allows 30 minutes to 24 hours; a few seconds of slack absorb clock skew.
    delta = expires_at - clock.now()
    if delta < 30 * 60 - 10:
        message = "The `expires_at` timestamp must be at least 30 minutes from now."
    elif delta > 24 * 3600 + 10:
        message = "The `expires_at` timestamp must be less than 24 hours from now."
    else:
        return
    raise StripeError(message, param="expires_at")


def _line_item(state, line, index):
    path = f"line_items[{index}]"
    if ("price" in line) == ("price_data" in line):
        raise StripeError(
            f"You must specify either `price` or `price_data` in {path}.", param=f"{path}[price]"
        )
    if "quantity" not in line:
        raise missing(f"{path}[quantity]")
    if "price" in line:
        price = state.store.get(line["price"], "price")
        if price is None:
            raise not_found("price", line["price"], f"{path}[price]")
    else:
        price = _inline_price(state, line["price_data"], f"{path}[price_data]")
    product = state.store.get(price["product"], "product")
    return shapes.line_item(price, product, line["quantity"], line.get("metadata"))


def _inline_price(state, data, path):
    currency = data["currency"].lower()
    if currency not in MINIMUM_CHARGE:
        raise StripeError(
            f"Invalid currency: {data['currency']}. The Stripe emulator supports "
            f"{', '.join(MINIMUM_CHARGE)}.",
            param=f"{path}[currency]",
        )
    if "unit_amount" not in data:
        raise missing(f"{path}[unit_amount]")
    recurring = data.get("recurring")
    if recurring and recurring.get("interval_count", 1) > MAX_INTERVAL_COUNT[recurring["interval"]]:
        raise StripeError(
            "The maximum billing interval is three years.",
            param=f"{path}[recurring][interval_count]",
        )
    if "product" in data:
        product = state.store.get(data["product"], "product")
        if product is None:
            raise not_found("product", data["product"], f"{path}[product]")
    elif "product_data" in data:
        info = data["product_data"]
        product = state.store.add(
            new_product(
                info["name"], info.get("description"), info.get("metadata"), info.get("images")
            )
        )
    else:
        raise missing(f"{path}[product_data]")
    price = new_price(
        product["id"], currency, data["unit_amount"], recurring, data.get("tax_behavior")
    )
    return state.store.add(price)


def _check_amounts(params, items):
    if len({item["currency"] for item in items}) > 1:
        raise StripeError("All line items must use the same currency.", param="line_items")
    if params.get("currency", items[0]["currency"]).lower() != items[0]["currency"]:
        raise StripeError(
            "`currency` must match the currency of the line items.", param="currency"
        )
    recurring = [item for item in items if item["price"]["recurring"]]
    if params["mode"] == "payment" and recurring:
        raise StripeError(
            "You specified `payment` mode but passed a recurring price. Either switch to "
            "`subscription` mode or use only one-time prices.",
            param="line_items",
        )
    if params["mode"] == "subscription" and not recurring:
        raise StripeError(
            "You must provide at least one recurring price in `subscription` mode when "
            "using prices.",
            param="line_items",
        )
    currency = items[0]["currency"]
    total = sum(item["amount_total"] for item in items)
    if total > MAXIMUM_CHARGE:
        raise StripeError(
            "The total amount is too large.", code="amount_too_large", param="line_items"
        )
    if total < MINIMUM_CHARGE[currency]:
        single = len(items) == 1 and "price_data" in params["line_items"][0]
        raise StripeError(
            "The Checkout Session's total amount due must add up to at least "
            f"{format_minimum(currency)}",
            code="amount_too_small",
            param="line_items[0][price_data][unit_amount]" if single else "line_items",
        )

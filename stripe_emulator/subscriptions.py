"""`POST /v1/subscriptions`: subscribe a customer who has a card on file.

The first invoice (`subscription_create`) is charged at once to
`default_payment_method` or the customer's default card, through the same
code as a Checkout-made subscription (billing.start_subscription). With
Stripe's default `payment_behavior=allow_incomplete` a declined card leaves
the subscription `incomplete` and its invoice open (not retried);
`error_if_incomplete` answers the decline with a 402 and creates nothing.
Callers hold the store lock.
"""

from . import billing, cards, changes, payments
from .customers import get_customer
from .money import check_currency
from .params import Arr, Bool, Int, Metadata, Obj, Str, missing
from .shapes.common import price as new_price
from .wire import StripeError, not_found

CREATE_FIELDS = {
    "customer": Str(),
    "items": Arr(
        Obj(
            {
                "price": Str(),
                "price_data": changes.ITEM_PRICE_DATA,
                "quantity": Int(minimum=1),
                "metadata": Metadata(),
            }
        ),
        max_items=20,
    ),
    "default_payment_method": Str(),
    "description": Str(max_length=500),
    "metadata": Metadata(),
    "payment_behavior": Str(choices={"allow_incomplete", "error_if_incomplete"}),
    "collection_method": Str(choices={"charge_automatically"}),
    "proration_behavior": Str(choices={"always_invoice", "create_prorations", "none"}),
    "off_session": Bool(),
}


def create(state, params):
    """Create and pay a subscription; returns it."""
    for name in ("customer", "items"):
        if not params.get(name):
            raise missing(name)
    customer = get_customer(state, params["customer"], "customer")
    lines = [_item(state, line, f"items[{i}]") for i, line in enumerate(params["items"])]
    _check_same_terms([price for price, _, _ in lines])
    method = _payment_method(state, customer, params.get("default_payment_method"))
    # No customer is there to pay: the 0341 card ("decline after attaching") fails too.
    decline = cards.decline_for(payments.card_of(state, method), off_session=True)
    if decline and params.get("payment_behavior") == "error_if_incomplete":
        raise decline.error()
    for price, _, is_new in lines:
        if is_new:
            state.store.add(price)
    data = {"metadata": params.get("metadata"), "description": params.get("description")}
    prices = [(price, quantity) for price, quantity, _ in lines]
    # Without `default_payment_method`, renewals charge the customer's default card.
    sub, invoice = billing.start_subscription(
        state, customer, method, prices, data,
        method_on_subscription="default_payment_method" in params, off_session=True,
    )
    if sub["status"] == "incomplete":
        # Stripe does not retry a first invoice: the subscription expires after 23 hours.
        invoice["next_payment_attempt"] = None
    for item, line in zip(sub["items"]["data"], params["items"], strict=True):
        item["metadata"] = line.get("metadata") or {}
    return sub


def _item(state, line, path):
    if ("price" in line) == ("price_data" in line):
        raise StripeError(
            f"You must specify either `price` or `price_data` in {path}.", param=f"{path}[price]"
        )
    if "price" in line:
        price = state.store.get(line["price"], "price")
        if price is None:
            raise not_found("price", line["price"], f"{path}[price]")
        if not price["active"]:
            raise StripeError(
                "The price specified is inactive. This field only accepts active prices.",
                param=f"{path}[price]",
            )
        is_new = False
    else:
        data = line["price_data"]
        path = f"{path}[price_data]"
        if state.store.get(data["product"], "product") is None:
            raise not_found("product", data["product"], f"{path}[product]")
        if "unit_amount" not in data:
            raise missing(f"{path}[unit_amount]")
        currency = check_currency(data["currency"], f"{path}[currency]")
        price = new_price(data["product"], currency, data["unit_amount"],
                          data["recurring"], data.get("tax_behavior"))
        is_new = True
    if price["recurring"] is None:
        raise StripeError(
            "The price specified is set to `type=one_time` but this field only accepts "
            "prices with `type=recurring`.",
            param=f"{path}[price]" if not is_new else path,
        )
    return price, line.get("quantity", 1), is_new


def _check_same_terms(prices):
    terms = {(p["currency"], p["recurring"]["interval"], p["recurring"]["interval_count"])
             for p in prices}
    if len(terms) > 1:
        raise StripeError(
            "Currency and interval fields must match across all plans on this subscription. "
            "Found mismatch in interval field.",
            param="items",
        )


def _payment_method(state, customer, method_id):
    if method_id is not None:
        return changes._owned_method(state, {"customer": customer["id"]}, method_id)
    default = customer["invoice_settings"]["default_payment_method"]
    method = state.store.get(default, "payment_method")
    if method is None:
        raise StripeError(
            "This customer has no attached payment source or default payment method. Please "
            "consider adding a default payment method. For more information, visit "
            "https://docs.stripe.com/billing/subscriptions/payment-methods-setting"
            "#payment-method-priority.",
            code="resource_missing",
        )
    return method

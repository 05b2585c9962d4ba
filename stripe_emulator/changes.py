"""`POST /v1/subscriptions/:id`: change a subscription's price, pause, card, end.

Everything a request asks for is checked before anything changes, so a 4xx
leaves the subscription as it was; then one `customer.subscription.updated`
tells of every change, with the old values in `previous_attributes`.

A new price with the same interval applies from the next renewal (the emulator
computes no prorations, so it takes `proration_behavior=none` only); a new
interval starts a new period now and bills it at once (`billing_reason`
`subscription_update`), as Stripe does. Callers hold the store lock.
"""

import copy
from dataclasses import dataclass, field

from . import billing
from .checkout import INTERVALS, MAX_INTERVAL_COUNT
from .clock import now
from .events import emit
from .money import MAXIMUM_CHARGE
from .params import Arr, Bool, Int, Metadata, Obj, OrEmpty, Str, missing
from .shapes.common import plan as plan_view
from .shapes.common import price as new_price
from .wire import StripeError, not_found

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
# Unlike Checkout's, a subscription item's inline price names an existing product.
ITEM_PRICE_DATA = Obj(
    {
        "currency": Str(max_length=3),
        "product": Str(),
        "recurring": Obj(
            {"interval": Str(choices=INTERVALS), "interval_count": Int(minimum=1)},
            required=["interval"],
        ),
        "tax_behavior": Str(choices={"exclusive", "inclusive", "unspecified"}),
        "unit_amount": Int(minimum=0, maximum=MAXIMUM_CHARGE),
    },
    required=["currency", "product", "recurring"],
)
UPDATE_FIELDS = {
    "cancel_at_period_end": Bool(),
    "cancellation_details": _CANCELLATION_DETAILS,
    "default_payment_method": Str(),
    "description": Str(max_length=500, unsettable=True),
    "items": Arr(
        Obj(
            {
                "id": Str(),
                "price": Str(),
                "price_data": ITEM_PRICE_DATA,
                "quantity": Int(minimum=1),
            }
        ),
        max_items=20,
    ),
    "metadata": Metadata(for_update=True),
    "pause_collection": OrEmpty(
        Obj(
            {
                "behavior": Str(choices={"keep_as_draft", "mark_uncollectible", "void"}),
                "resumes_at": Int(),
            },
            required=["behavior"],
        )
    ),
    "proration_behavior": Str(choices={"always_invoice", "create_prorations", "none"}),
}
CANCEL_FIELDS = {
    "cancellation_details": _CANCELLATION_DETAILS,
    "invoice_now": Bool(),
    "prorate": Bool(),
}


@dataclass
class _ItemChange:
    item: dict
    price: dict
    new_price: bool  # an inline price, stored when the change is applied
    quantity: int


@dataclass
class _Checked:
    items: list = field(default_factory=list)
    method: dict | None = None


def update(state, sub_id, params):
    """Apply validated update params to a subscription; returns it."""
    sub = billing.get_subscription(state, sub_id)
    if sub["status"] == "canceled" and set(params) - {"metadata", "cancellation_details"}:
        raise StripeError(
            "A canceled subscription can only update its cancellation_details and metadata.",
            code="invalid_canceled_subscription_fields",
        )
    checked = _check(state, sub, params)
    previous = {}
    new_period = _apply_items(state, sub, checked.items, previous)
    method = checked.method
    if method is not None and method["id"] != sub["default_payment_method"]:
        previous["default_payment_method"] = sub["default_payment_method"]
        sub["default_payment_method"] = method["id"]
    if "pause_collection" in params:
        _set_pause(sub, params["pause_collection"], previous)
    if "cancel_at_period_end" in params:
        billing.schedule_cancel(sub, params["cancel_at_period_end"], previous)
    if "metadata" in params:
        billing.merge_metadata(sub, params["metadata"], previous)
    if "cancellation_details" in params:
        billing.set_details(sub, params["cancellation_details"], previous)
    if "description" in params and params["description"] != sub["description"]:
        previous["description"] = sub["description"]
        sub["description"] = params["description"]
    invoice = None
    if new_period:
        previous["latest_invoice"] = sub["latest_invoice"]
        start = sub["billing_cycle_anchor"]
        invoice = billing.new_invoice(state, sub, "subscription_update", (start, start))
    if previous:
        emit(state, "customer.subscription.updated", sub, previous)
    if invoice is not None:
        billing.bill(state, sub, invoice)
    return sub


def _check(state, sub, params):
    checked = _Checked()
    for index, line in enumerate(params.get("items", [])):
        checked.items.append(_item_change(state, sub, line, f"items[{index}]"))
    changes_price = any(
        c.new_price or c.price["id"] != c.item["price"]["id"] or c.quantity != c.item["quantity"]
        for c in checked.items
    )
    if changes_price and params.get("proration_behavior", "create_prorations") != "none":
        raise StripeError(
            "The Stripe emulator does not compute prorations: pass proration_behavior=none "
            "when changing a subscription's price or quantity.",
            param="proration_behavior",
        )
    if "default_payment_method" in params:
        checked.method = _owned_method(state, sub, params["default_payment_method"])
    pause = params.get("pause_collection")
    if pause and pause.get("resumes_at") is not None and pause["resumes_at"] <= now():
        raise StripeError(
            "pause_collection[resumes_at] must be in the future.",
            param="pause_collection[resumes_at]",
        )
    return checked


def _item_change(state, sub, line, path):
    if "id" not in line:
        raise StripeError(
            f"The Stripe emulator only changes existing items: pass {path}[id].",
            param=f"{path}[id]",
        )
    item = next((i for i in sub["items"]["data"] if i["id"] == line["id"]), None)
    if item is None:
        raise not_found("subscription_item", line["id"], f"{path}[id]")
    if "price" in line and "price_data" in line:
        raise StripeError(
            f"You may only specify one of these parameters: {path}[price], {path}[price_data].",
            code="parameters_exclusive",
            param=f"{path}[price_data]",
        )
    if "price_data" in line:
        price = _inline_price(state, sub, line["price_data"], f"{path}[price_data]")
    elif "price" in line:
        price = state.store.get(line["price"], "price")
        if price is None:
            raise not_found("price", line["price"], f"{path}[price]")
        _check_recurring(sub, price, f"{path}[price]")
    else:
        price = item["price"]
    quantity = line.get("quantity", item["quantity"])
    return _ItemChange(item, price, "price_data" in line, quantity)


def _inline_price(state, sub, data, path):
    if state.store.get(data["product"], "product") is None:
        raise not_found("product", data["product"], f"{path}[product]")
    if "unit_amount" not in data:
        raise missing(f"{path}[unit_amount]")
    recurring = data["recurring"]
    if recurring.get("interval_count", 1) > MAX_INTERVAL_COUNT[recurring["interval"]]:
        raise StripeError(
            "The maximum billing interval is three years.",
            param=f"{path}[recurring][interval_count]",
        )
    price = new_price(
        data["product"],
        data["currency"].lower(),
        data["unit_amount"],
        recurring,
        data.get("tax_behavior"),
    )
    _check_recurring(sub, price, f"{path}[currency]")
    return price


def _check_recurring(sub, price, param):
    if price["recurring"] is None:
        raise StripeError(
            "The price specified is set to `type=one_time` but this field only accepts "
            "prices with `type=recurring`.",
            param=param,
        )
    if price["currency"] != sub["currency"]:
        raise StripeError(
            f"The price's currency ({price['currency']}) must match the subscription's "
            f"currency ({sub['currency']}).",
            param=param,
        )


def _owned_method(state, sub, method_id):
    method = state.store.get(method_id, "payment_method")
    if method is None:
        raise not_found("payment_method", method_id, "default_payment_method")
    if method["customer"] != sub["customer"]:
        raise StripeError(
            f"The customer does not have a payment method with the ID {method_id}. The "
            "payment method must be attached to the customer.",
            param="default_payment_method",
        )
    return method


def _apply_items(state, sub, changes, previous):
    """Put the new prices and quantities on the items; True when a new period starts."""
    if not changes:
        return False
    old_items = copy.deepcopy(sub["items"])
    new_interval = False
    for change in changes:
        if change.new_price:
            state.store.add(change.price)
        new_interval |= _interval(change.price) != _interval(change.item["price"])
        change.item.update(
            price=copy.deepcopy(change.price),
            plan=plan_view(change.price),
            quantity=change.quantity,
        )
    if old_items != sub["items"]:
        previous["items"] = old_items
    if new_interval:
        _start_period(sub, previous)
    return new_interval


def _start_period(sub, previous):
    start = now()
    previous["billing_cycle_anchor"] = sub["billing_cycle_anchor"]
    sub["billing_cycle_anchor"] = start
    for item in sub["items"]["data"]:
        item["current_period_start"] = start
        item["current_period_end"] = billing.period_end(item["price"], start)


def _interval(price):
    recurring = price["recurring"]
    return recurring["interval"], recurring["interval_count"]


def _set_pause(sub, pause, previous):
    value = None if pause is None else {
        "behavior": pause["behavior"],
        "resumes_at": pause.get("resumes_at"),
    }
    if value != sub["pause_collection"]:
        previous["pause_collection"] = sub["pause_collection"]
        sub["pause_collection"] = value

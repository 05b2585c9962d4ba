"""Products and Prices: create and update through the API.

Objects made this way are active unless `active=false` (Checkout's inline
`price_data` makes archived ones, see checkout.py). Stripe never changes a
price's amount, currency or interval: the update schema simply has no such
params, so they answer 400 `parameter_unknown`. Callers hold the store lock.
"""

import copy

from . import billing
from .checkout import INTERVALS, MAX_INTERVAL_COUNT
from .clock import now
from .events import emit
from .money import MAXIMUM_CHARGE, check_currency
from .params import Arr, Bool, Int, Metadata, Obj, Str, missing
from .shapes.common import price as new_price
from .shapes.common import product as new_product
from .wire import StripeError, not_found

_RECURRING = Obj(
    {
        "interval": Str(choices=INTERVALS),
        "interval_count": Int(minimum=1),
        "trial_period_days": Int(minimum=0),
        "usage_type": Str(choices={"licensed"}),
    },
    required=["interval"],
)
_TAX_BEHAVIOR = Str(choices={"exclusive", "inclusive", "unspecified"})
_PRODUCT_DETAILS = {
    "description": Str(max_length=40000),
    "images": Arr(Str(max_length=2048), max_items=8),
    "metadata": Metadata(),
    "shippable": Bool(),
    "statement_descriptor": Str(max_length=22),
    "unit_label": Str(max_length=12),
    "url": Str(max_length=5000),
}
PRODUCT_CREATE_FIELDS = {
    "name": Str(max_length=250),
    "id": Str(max_length=250),
    "active": Bool(),
    "type": Str(choices={"good", "service"}),
    "default_price_data": Obj(
        {
            "currency": Str(max_length=3),
            "unit_amount": Int(minimum=0, maximum=MAXIMUM_CHARGE),
            "recurring": Obj(
                {"interval": Str(choices=INTERVALS), "interval_count": Int(minimum=1)},
                required=["interval"],
            ),
            "tax_behavior": _TAX_BEHAVIOR,
            "metadata": Metadata(),
        },
        required=["currency"],
    ),
    **_PRODUCT_DETAILS,
}
PRODUCT_UPDATE_FIELDS = {
    "name": Str(max_length=250),
    "active": Bool(),
    "default_price": Str(),
    "description": Str(max_length=40000, unsettable=True),
    "images": Arr(Str(max_length=2048), max_items=8),
    "metadata": Metadata(for_update=True),
    "shippable": Bool(),
    "statement_descriptor": Str(max_length=22),
    "unit_label": Str(max_length=12, unsettable=True),
    "url": Str(max_length=5000, unsettable=True),
}
PRICE_CREATE_FIELDS = {
    "currency": Str(max_length=3),
    "unit_amount": Int(minimum=0, maximum=MAXIMUM_CHARGE),
    "product": Str(),
    "product_data": Obj(
        {
            "name": Str(max_length=250),
            "active": Bool(),
            "metadata": Metadata(),
            "statement_descriptor": Str(max_length=22),
            "unit_label": Str(max_length=12),
        },
        required=["name"],
    ),
    "recurring": _RECURRING,
    "nickname": Str(max_length=5000),
    "lookup_key": Str(max_length=200),
    "transfer_lookup_key": Bool(),
    "metadata": Metadata(),
    "active": Bool(),
    "tax_behavior": _TAX_BEHAVIOR,
    "billing_scheme": Str(choices={"per_unit"}),
}
PRICE_UPDATE_FIELDS = {
    "active": Bool(),
    "nickname": Str(max_length=5000, unsettable=True),
    "lookup_key": Str(max_length=200, unsettable=True),
    "transfer_lookup_key": Bool(),
    "metadata": Metadata(for_update=True),
    "tax_behavior": _TAX_BEHAVIOR,
}


def create_product(state, params):
    """A new active product (`product.created`); `default_price_data` makes its price too."""
    product_id = params.get("id")
    if product_id is not None and state.store.get(product_id, include_deleted=True):
        raise StripeError(
            f"Product already exists. ({product_id})", code="resource_already_exists", param="id"
        )
    if "name" not in params:
        raise missing("name")
    price_data = params.get("default_price_data")
    if price_data is not None:
        _check_amount(price_data, "default_price_data")
    product = _product(params)
    if product_id is not None:
        product["id"] = product_id
    state.store.add(product)
    emit(state, "product.created", product)
    if price_data is not None:
        price = _price(product["id"], price_data)
        state.store.add(price)
        emit(state, "price.created", price)
        product["default_price"] = price["id"]
    return product


def _product(params):
    product = new_product(params["name"], params.get("description"), params.get("metadata"),
                          params.get("images"))
    product["active"] = params.get("active", True)
    product["type"] = params.get("type", "service")
    for name in ("shippable", "statement_descriptor", "unit_label", "url"):
        product[name] = params.get(name)
    return product


def update_product(state, product_id, params):
    """Change a product (`product.updated` with the old values)."""
    product = get_product(state, product_id)
    if params.get("default_price") is not None:
        price = state.store.get(params["default_price"], "price")
        if price is None or price["product"] != product_id:
            raise StripeError(
                f"No such price: '{params['default_price']}' on product '{product_id}'.",
                code="resource_missing",
                param="default_price",
            )
    previous = _apply(product, params)
    if previous:
        product["updated"] = now()
        emit(state, "product.updated", product, previous)
    return product


def get_product(state, product_id, param="id"):
    product = state.store.get(product_id, "product")
    if product is None:
        raise not_found("product", product_id, param)
    return product


def create_price(state, params):
    """A new price (`price.created`), for `product` or a new product from `product_data`."""
    _check_amount(params, None)
    if "product" in params and "product_data" in params:
        raise StripeError(
            "You may only specify one of these parameters: product, product_data.",
            code="parameters_exclusive",
            param="product_data",
        )
    if "product" not in params and "product_data" not in params:
        raise missing("product")
    if "product" in params:
        get_product(state, params["product"], "product")
    lookup_key = params.get("lookup_key")
    holder = _lookup_key_holder(state, lookup_key)
    if holder is not None and not params.get("transfer_lookup_key"):
        raise _lookup_key_taken(holder)
    if "product_data" in params:
        product = state.store.add(_product(params["product_data"]))
        emit(state, "product.created", product)
        product_id = product["id"]
    else:
        product_id = params["product"]
    price = _price(product_id, params)
    for name in ("nickname", "lookup_key"):
        price[name] = params.get(name)
    price["active"] = params.get("active", True)
    if holder is not None:
        _release_lookup_key(state, holder)
    state.store.add(price)
    emit(state, "price.created", price)
    return price


def _price(product_id, data):
    price = new_price(
        product_id,
        data["currency"].lower(),
        data["unit_amount"],
        data.get("recurring"),
        data.get("tax_behavior"),
    )
    price["active"] = True
    price["metadata"] = data.get("metadata") or {}
    trial_days = (data.get("recurring") or {}).get("trial_period_days")
    if trial_days is not None:
        price["recurring"]["trial_period_days"] = trial_days
    return price


def update_price(state, price_id, params):
    """Change what Stripe lets change on a price (`price.updated`)."""
    price = state.store.get(price_id, "price")
    if price is None:
        raise not_found("price", price_id)
    transfer = params.pop("transfer_lookup_key", False)
    lookup_key = params.get("lookup_key")
    if "tax_behavior" in params and price["tax_behavior"] not in ("unspecified", params[
            "tax_behavior"]):
        raise StripeError(
            "tax_behavior cannot be changed once it is inclusive or exclusive.",
            param="tax_behavior",
        )
    holder = _lookup_key_holder(state, lookup_key)
    if holder is not None and holder["id"] != price_id:
        if not transfer:
            raise _lookup_key_taken(holder)
        _release_lookup_key(state, holder)
    previous = _apply(price, params)
    if previous:
        emit(state, "price.updated", price, previous)
    return price


def _apply(obj, params):
    """Set validated update params on `obj`; returns the old values of what changed."""
    previous = {}
    for name, value in params.items():
        if name == "metadata":
            billing.merge_metadata(obj, value, previous)
        elif obj[name] != value:
            previous[name] = copy.deepcopy(obj[name])
            obj[name] = value
    return previous


def _check_amount(data, prefix):
    def path(name):
        return f"{prefix}[{name}]" if prefix else name

    if "currency" not in data:
        raise missing(path("currency"))
    check_currency(data["currency"], path("currency"))
    if "unit_amount" not in data:
        raise missing(path("unit_amount"))
    recurring = data.get("recurring")
    if recurring and recurring.get("interval_count", 1) > MAX_INTERVAL_COUNT[recurring["interval"]]:
        raise StripeError(
            "The maximum billing interval is three years.",
            param=path("recurring[interval_count]"),
        )


def _lookup_key_holder(state, lookup_key):
    if lookup_key is None:
        return None
    for price in state.store.newest_first("price"):
        if price["lookup_key"] == lookup_key:
            return price
    return None


def _lookup_key_taken(holder):
    return StripeError(
        f"A price (`{holder['id']}`) already uses that lookup key.", param="lookup_key"
    )


def _release_lookup_key(state, holder):
    price = state.store.get(holder["id"], "price")
    previous = {"lookup_key": price["lookup_key"]}
    price["lookup_key"] = None
    emit(state, "price.updated", price, previous)


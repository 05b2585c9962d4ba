"""`expand[]`: replace ids by objects, include fields Stripe leaves out.

A static graph says which fields of which object type can be expanded and
to what type, so a bad path is refused (400) before an endpoint changes
anything; then the same graph drives the expansion of the response. Paths
nest with dots (`subscription.latest_invoice`) and go through lists with
`data` (`data.customer` on a list, `line_items.data.price.product`).
"""

import copy

from .wire import StripeError

# type -> {dotted field path: type it expands to}; "list:x" is a list of x.
EXPANDABLE = {
    "checkout.session": {
        "customer": "customer",
        "invoice": "invoice",
        "line_items": "list:item",
        "payment_intent": "payment_intent",
        "setup_intent": "setup_intent",
        "subscription": "subscription",
    },
    "customer": {"invoice_settings.default_payment_method": "payment_method"},
    "payment_intent": {
        "customer": "customer",
        "latest_charge": "charge",
        "payment_method": "payment_method",
    },
    "payment_method": {"customer": "customer"},
    "mandate": {"payment_method": "payment_method"},
    "setup_intent": {"customer": "customer", "payment_method": "payment_method"},
    "charge": {
        "balance_transaction": "balance_transaction",
        "customer": "customer",
        "payment_intent": "payment_intent",
    },
    "refund": {
        "balance_transaction": "balance_transaction",
        "charge": "charge",
        "payment_intent": "payment_intent",
    },
    "balance_transaction": {"source": "balance_source"},
    "dispute": {"charge": "charge", "payment_intent": "payment_intent"},
    "subscription": {
        "customer": "customer",
        "default_payment_method": "payment_method",
        "latest_invoice": "invoice",
    },
    "invoice": {
        "customer": "customer",
        "payments": "list:invoice_payment",
        "parent.subscription_details.subscription": "subscription",
    },
    "invoice_payment": {"invoice": "invoice", "payment.payment_intent": "payment_intent"},
    "price": {"product": "product"},
    "product": {"default_price": "price"},
}

# Objects embedded in others (not expandable themselves, but paths go through).
EMBEDDED = {
    "item": {"price": "price"},
    "subscription": {"items": "list:subscription_item"},
    "subscription_item": {"price": "price"},
    "charge": {"refunds": "list:refund"},
    "invoice": {"lines": "list:line_item"},
}

MAX_DEPTH = 4  # Stripe refuses deeper expansions


def check(object_type, paths):
    """Raise a 400 for any path that cannot be expanded from `object_type`."""
    for path in paths:
        if not _valid(object_type, path.split("."), 0):
            raise StripeError(f"This property cannot be expanded ({path}).", param="expand")


def _valid(object_type, parts, depth):
    if not parts:
        return True
    if depth >= MAX_DEPTH:
        return False
    if object_type.startswith("list:"):
        return parts[0] == "data" and _valid(object_type[5:], parts[1:], depth)
    for size in range(len(parts), 0, -1):
        target = EXPANDABLE.get(object_type, {}).get(".".join(parts[:size]))
        if target:
            return _valid(target, parts[size:], depth + 1)
    embedded = EMBEDDED.get(object_type, {}).get(parts[0])
    return bool(embedded and len(parts) > 1 and _valid(embedded, parts[1:], depth))


def render(obj, paths, resolve, include):
    """A deep copy of `obj` with `paths` expanded.

    `resolve(id)` returns the stored object for an id (or None);
    `include(obj, field)` builds an includable field such as `line_items`.
    """
    result = copy.deepcopy(obj)
    for path in paths or ():
        _expand(result, path.split("."), resolve, include)
    return result


def _expand(obj, parts, resolve, include):
    if not parts or not isinstance(obj, dict):
        return
    if obj.get("object") == "list":
        for item in obj["data"]:
            _expand(item, parts[1:], resolve, include)
        return
    table = EXPANDABLE.get(obj.get("object"), {})
    for size in range(len(parts), 0, -1):
        field = ".".join(parts[:size])
        if field in table:
            value = _replace(obj, parts[:size], resolve, include, field)
            _expand(value, parts[size:], resolve, include)
            return
    _expand(obj.get(parts[0]), parts[1:], resolve, include)


def _replace(obj, parts, resolve, include, field):
    holder = obj
    for part in parts[:-1]:
        holder = holder.get(part)
        if not isinstance(holder, dict):
            return None  # e.g. `parent` is null: nothing to expand
    leaf = parts[-1]
    value = holder.get(leaf)
    if leaf not in holder:  # an includable field such as `line_items`
        value = include(obj, field)
    elif isinstance(value, str):
        found = resolve(value)
        value = copy.deepcopy(found) if found is not None else value
    holder[leaf] = value
    return value

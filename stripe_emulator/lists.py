"""List endpoints: filters, `created` ranges and cursor pagination."""

from .shapes.common import list_object
from .wire import StripeError, not_found

_COMPARE = {
    "eq": lambda a, b: a == b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def in_range(value, bounds):
    """`bounds` is a cleaned `Range`: {"gte": 1, "lt": 5} or {"eq": 3}."""
    return all(_COMPARE[op](value, limit) for op, limit in bounds.items())


def paginate(items, params, url, object_name):
    """One page of `items` (already in list order) as a Stripe list object.

    `starting_after` pages towards the end of the list, `ending_before`
    towards its start; `has_more` says whether that direction has more.
    """
    if "starting_after" in params and "ending_before" in params:
        raise StripeError(
            "You may only specify one of these parameters: ending_before, starting_after.",
            code="parameters_exclusive",
            param="ending_before",
        )
    if "created" in params:
        items = [item for item in items if in_range(item["created"], params["created"])]
    limit = params.get("limit", 10)
    if "starting_after" in params:
        rest = items[_position(items, params, "starting_after", object_name) + 1 :]
        return list_object(rest[:limit], url, len(rest) > limit)
    if "ending_before" in params:
        before = items[: _position(items, params, "ending_before", object_name)]
        return list_object(before[-limit:], url, len(before) > limit)
    return list_object(items[:limit], url, len(items) > limit)


def _position(items, params, cursor, object_name):
    wanted = params[cursor]
    for index, item in enumerate(items):
        if item["id"] == wanted:
            return index
    raise not_found(object_name, wanted, param=cursor)

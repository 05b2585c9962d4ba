"""Retrieve and list endpoints, declared as a table of collections.

Each collection names its object type and its list filters; the routes
`GET <path>` (list, newest first) and `GET <path>/<id>` (retrieve) are
generated from it.
"""

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from .. import checkout, fees
from ..lists import paginate
from ..params import Arr, Bool, Obj, Str, list_fields
from ..wire import StripeError, not_found
from .core import bp, endpoint


def equals(key):
    return lambda state, obj, value: obj.get(key) == value


@dataclass
class Collection:
    path: str
    object_type: str
    # filter name -> (its params Field, predicate(state, obj, value))
    filters: dict = field(default_factory=dict)
    # (predicate(obj), filter name): the predicate applies unless that filter is given
    default_filter: tuple | None = None
    # (state, obj) -> obj: bring an object up to date before it is read
    refresh: object = None

    def endpoint_name(self, action):
        return f"{action}_{self.object_type.replace('.', '_')}"


def _subscription_status(state, obj, value):
    if value == "all":
        return True
    if value == "ended":
        return obj["status"] in ("canceled", "incomplete_expired")
    return obj["status"] == value


def _has_price(state, obj, value):
    return any(item["price"]["id"] == value for item in obj["items"]["data"])


def _invoice_subscription(state, obj, value):
    parent = obj["parent"] or {}
    return (parent.get("subscription_details") or {}).get("subscription") == value


def _customer_email(state, obj, value):
    details = obj["customer_details"] or {}
    return details.get("email") == value.get("email")


_STR = Str()
SUBSCRIPTION_STATUSES = {
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
}

COLLECTIONS = [
    Collection(
        "/checkout/sessions",
        "checkout.session",
        {
            "customer": (_STR, equals("customer")),
            "customer_details": (Obj({"email": Str()}, required=["email"]), _customer_email),
            "payment_intent": (_STR, equals("payment_intent")),
            "payment_link": (_STR, equals("payment_link")),
            "status": (Str(choices={"open", "complete", "expired"}), equals("status")),
            "subscription": (_STR, equals("subscription")),
        },
        # A session past its expires_at expires when next looked at.
        refresh=lambda state, obj: checkout.get_session(state, obj["id"]),
    ),
    Collection("/customers", "customer", {"email": (Str(max_length=512), equals("email"))}),
    Collection(
        "/payment_methods",
        "payment_method",
        {
            "customer": (_STR, equals("customer")),
            "type": (Str(choices={"card", "sepa_debit"}), equals("type")),
        },
    ),
    Collection(
        "/setup_intents",
        "setup_intent",
        {
            "customer": (_STR, equals("customer")),
            "payment_method": (_STR, equals("payment_method")),
        },
    ),
    Collection("/payment_intents", "payment_intent", {"customer": (_STR, equals("customer"))}),
    Collection(
        "/charges",
        "charge",
        {
            "customer": (_STR, equals("customer")),
            "payment_intent": (_STR, equals("payment_intent")),
        },
    ),
    Collection(
        "/refunds",
        "refund",
        {
            "charge": (_STR, equals("charge")),
            "payment_intent": (_STR, equals("payment_intent")),
        },
    ),
    Collection(
        "/disputes",
        "dispute",
        {
            "charge": (_STR, equals("charge")),
            "payment_intent": (_STR, equals("payment_intent")),
        },
    ),
    Collection(
        "/subscriptions",
        "subscription",
        {
            "customer": (_STR, equals("customer")),
            "price": (_STR, _has_price),
            "status": (Str(choices=SUBSCRIPTION_STATUSES), _subscription_status),
        },
        # Stripe leaves canceled subscriptions out unless a status is asked for.
        default_filter=(lambda obj: obj["status"] != "canceled", "status"),
    ),
    Collection(
        "/invoices",
        "invoice",
        {
            "customer": (_STR, equals("customer")),
            "status": (
                Str(choices={"draft", "open", "paid", "uncollectible", "void"}),
                equals("status"),
            ),
            "subscription": (_STR, _invoice_subscription),
        },
    ),
    Collection(
        "/invoice_payments",
        "invoice_payment",
        {
            "invoice": (_STR, equals("invoice")),
            "status": (Str(choices={"canceled", "open", "paid"}), equals("status")),
        },
    ),
    Collection(
        "/events",
        "event",
        {
            "type": (Str(), lambda state, obj, value: fnmatchcase(obj["type"], value)),
            "types": (Arr(Str(), max_items=20), lambda state, obj, value: obj["type"] in value),
            "delivery_success": (Bool(), lambda state, obj, value: _delivered(state, obj) == value),
        },
    ),
    Collection(
        "/balance_transactions",
        "balance_transaction",
        {
            "currency": (_STR, equals("currency")),
            "source": (_STR, equals("source")),
            "type": (_STR, equals("type")),
        },
        refresh=fees.as_read,
    ),
    Collection(
        "/prices",
        "price",
        {
            "active": (Bool(), equals("active")),
            "currency": (_STR, equals("currency")),
            "lookup_keys": (Arr(Str(max_length=200), max_items=10),
                            lambda state, obj, value: obj["lookup_key"] in value),
            "product": (_STR, equals("product")),
            "type": (Str(choices={"one_time", "recurring"}), equals("type")),
        },
    ),
    Collection(
        "/products",
        "product",
        {
            "active": (Bool(), equals("active")),
            "ids": (Arr(Str()), lambda state, obj, value: obj["id"] in value),
        },
    ),
]


def _register(collection):
    filters = {name: spec for name, (spec, _) in collection.filters.items()}

    @endpoint(list_fields(**filters), f"list:{collection.object_type}")
    def list_view(state, params):
        if "type" in params and "types" in params:
            raise StripeError(
                "You may only specify one of these parameters: type, types.",
                code="parameters_exclusive",
                param="types",
            )
        objects = [
            _read(state, collection, obj)
            for obj in state.store.newest_first(collection.object_type)
        ]
        items = [obj for obj in objects if _matches(state, collection, obj, params)]
        return paginate(items, params, f"/v1{collection.path}", collection.object_type)

    @endpoint({}, collection.object_type)
    def retrieve_view(state, params, object_id):
        # A deleted customer still answers, as Stripe's `{"deleted": true}` stub.
        obj = state.store.get(object_id, collection.object_type, include_deleted=True)
        if obj is None:
            raise not_found(collection.object_type, object_id)
        return _read(state, collection, obj)

    bp.add_url_rule(collection.path, collection.endpoint_name("list"), list_view)
    bp.add_url_rule(
        f"{collection.path}/<object_id>", collection.endpoint_name("retrieve"), retrieve_view
    )


def _read(state, collection, obj):
    return collection.refresh(state, obj) if collection.refresh else obj


def _matches(state, collection, obj, params):
    if collection.default_filter:
        predicate, unless = collection.default_filter
        if unless not in params and not predicate(obj):
            return False
    return all(
        predicate(state, obj, params[name])
        for name, (_, predicate) in collection.filters.items()
        if name in params
    )


def _delivered(state, event):
    summary = state.delivery(event["id"]) or {}
    return summary.get("delivered", False)


for _collection in COLLECTIONS:
    _register(_collection)


def _nested_list(path, object_type, parent_type, items_of):
    """`GET <parent>/<id>/<sub-list>` such as a session's line items."""

    @endpoint(list_fields(), f"list:{object_type}")
    def view(state, params, object_id):
        parent = state.store.get(object_id, parent_type)
        if parent is None:
            raise not_found(parent_type, object_id)
        url = path.replace("<object_id>", object_id)
        return paginate(items_of(state, parent), params, f"/v1{url}", object_type)

    bp.add_url_rule(path, f"nested_{object_type}_{parent_type}".replace(".", "_"), view)


_nested_list(
    "/checkout/sessions/<object_id>/line_items",
    "item",
    "checkout.session",
    lambda state, s: state.store.private[s["id"]]["line_items"],
)
_nested_list(
    "/customers/<object_id>/payment_methods",
    "payment_method",
    "customer",
    lambda state, c: [
        m for m in state.store.newest_first("payment_method") if m["customer"] == c["id"]
    ],
)
_nested_list(
    "/charges/<object_id>/refunds", "refund", "charge", lambda state, c: c["refunds"]["data"]
)
_nested_list(
    "/invoices/<object_id>/lines", "line_item", "invoice", lambda state, i: i["lines"]["data"]
)


@bp.get("/mandates/<mandate_id>")
@endpoint({}, "mandate")
def retrieve_mandate(state, params, mandate_id):
    """Mandates are retrieved only (Stripe has no list of them)."""
    mandate = state.store.get(mandate_id, "mandate")
    if mandate is None:
        raise not_found("mandate", mandate_id)
    return mandate

"""Every object the emulator returns has the keys of Stripe's own fixture for it.

The fixtures are from an older API release than the pinned one: a key the
fixture lacks is allowed when the pinned API's description has it (and
conformance.py checks every answer against that description).
"""

import pytest
import stripe

from .conformance import field_names, object_schema
from .helpers import one_off_params

# Keys the emulator leaves out or adds on purpose (see stripe_emulator/shapes/billing.py):
# the current API has no `invoice.subscription`; `payments` and `line_items` are
# includable fields that appear only when expanded.
LEFT_OUT = {"invoice": {"subscription"}}
INCLUDED_ON_REQUEST = {"invoice": {"payments"}, "checkout.session": {"line_items"}}
# Keys the pinned API's OpenAPI description requires that the (older) fixture lacks.
NEWER_THAN_FIXTURE = {
    "product": {"tax_details"},
    "payment_intent": {"allowed_payment_method_types", "payment_record"},
    "subscription_item": {"current_trial"},
}


def assert_same_keys(ours, fixture, resource, path=""):
    """Top level: exactly the fixture's keys. Nested hashes: at least the fixture's keys."""
    expected = set(fixture) - LEFT_OUT.get(resource, set()) if not path else set(fixture)
    hidden = INCLUDED_ON_REQUEST.get(resource, set()) | NEWER_THAN_FIXTURE.get(resource, set())
    actual = set(ours) - hidden if not path else set(ours)
    if path:
        assert expected <= actual, f"{resource}{path} lacks {sorted(expected - actual)}"
    else:
        extra = actual - expected - _newer_fields(ours, expected)
        assert expected <= actual and not extra, (
            f"{resource}: missing {sorted(expected - actual)}, extra {sorted(extra)}"
        )
    for key, value in fixture.items():
        mine = ours.get(key)
        if isinstance(value, dict) and isinstance(mine, dict) and not _free_form(key):
            assert_same_keys(mine, value, resource, f"{path}.{key}")
        elif _first_is_dict(value) and _first_is_dict(mine):
            assert_same_keys(mine[0], value[0], resource, f"{path}.{key}[0]")


def _newer_fields(ours, fixture_keys):
    """Fields of the pinned API's object that the older fixture does not have."""
    fields = field_names(object_schema(None, ours["object"]), ours)
    return (fields or set()) - fixture_keys


def _first_is_dict(value):
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict)


def _free_form(key):
    # Hashes whose keys are data, not schema.
    return key in ("metadata", "previous_attributes", "object")


@pytest.fixture
def world(client, pay, control, api, subscribe):
    """One of everything: a paid one-off (refunded, disputed), a renewed subscription."""
    session = client.v1.checkout.sessions.create(params=one_off_params(customer_creation="always"))
    pay(session.id)
    session = client.v1.checkout.sessions.retrieve(session.id)
    intent = client.v1.payment_intents.retrieve(session.payment_intent)
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})
    dispute = control("POST", f"/charges/{intent.latest_charge}/dispute").json()
    sub = subscribe()
    control("POST", f"/subscriptions/{sub.id}/advance")
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": sub.customer, "return_url": "https://news.example/account"}
    )
    sub = client.v1.subscriptions.retrieve(sub.id)

    def raw(path):
        response = api("GET", path)
        assert response.status_code == 200, response.text
        return response.json()

    invoice = raw(f"/v1/invoices/{sub.latest_invoice}?expand[]=payments")
    setup = client.v1.checkout.sessions.create(params={
        "mode": "setup", "customer": sub.customer, "currency": "usd",
        "success_url": "https://news.example/manage"})
    pay(setup.id)
    setup_intent = raw(f"/v1/checkout/sessions/{setup.id}")["setup_intent"]
    gone = client.v1.customers.create(params={"email": "gone@example.com"})
    api("DELETE", f"/v1/customers/{gone.id}")
    return {
        "checkout.session (setup)": raw(f"/v1/checkout/sessions/{setup.id}"),
        "setup_intent": raw(f"/v1/setup_intents/{setup_intent}"),
        "payment_method": raw(f"/v1/payment_methods/{sub.default_payment_method}"),
        "deleted_customer": raw(f"/v1/customers/{gone.id}"),
        "checkout.session": raw(f"/v1/checkout/sessions/{session.id}"),
        "customer": raw(f"/v1/customers/{session.customer}"),
        "payment_intent": raw(f"/v1/payment_intents/{intent.id}"),
        "charge": raw(f"/v1/charges/{intent.latest_charge}"),
        "refund": raw(f"/v1/refunds/{refund.id}"),
        "balance_transaction": raw("/v1/balance_transactions?limit=1")["data"][0],
        "dispute": raw(f"/v1/disputes/{dispute['id']}"),
        "subscription": raw(f"/v1/subscriptions/{sub.id}"),
        "subscription_item": raw(f"/v1/subscriptions/{sub.id}")["items"]["data"][0],
        "plan": raw(f"/v1/subscriptions/{sub.id}")["items"]["data"][0]["plan"],
        "invoice": invoice,
        "line_item": invoice["lines"]["data"][0],
        "invoice_payment": invoice["payments"]["data"][0],
        "event": raw("/v1/events?limit=1")["data"][0],
        "billing_portal.session": portal.to_dict(),
        "item": raw(f"/v1/checkout/sessions/{session.id}/line_items")["data"][0],
        "price": raw(f"/v1/checkout/sessions/{session.id}/line_items")["data"][0]["price"],
        "product": raw("/v1/products?limit=1")["data"][0],
    }


@pytest.mark.parametrize(
    "resource",
    [
        "checkout.session",
        "customer",
        "payment_intent",
        "charge",
        "refund",
        "balance_transaction",
        "dispute",
        "subscription",
        "subscription_item",
        "plan",
        "invoice",
        "line_item",
        "invoice_payment",
        "event",
        "billing_portal.session",
        "item",
        "price",
        "product",
        "checkout.session (setup)",
        "setup_intent",
        "payment_method",
        "deleted_customer",
    ],
)
def test_object_has_the_fixture_keys(world, fixtures3, resource):
    """The emulator's object carries the same keys as Stripe's example object."""
    name = resource.removesuffix(" (setup)")
    fixture = fixtures3[name]
    if resource == "plan":
        fixture = fixtures3["subscription_item"]["plan"]
    assert world[resource]["object"] == fixture["object"]
    assert_same_keys(world[resource], fixture, name)


def test_list_objects_have_the_fixture_keys(api, fixtures3, paid_one_off):
    """A list is {object, data, has_more, url} like the fixture's embedded lists."""
    listed = api("GET", "/v1/charges").json()
    assert set(listed) == set(fixtures3["charge"]["refunds"])
    assert listed["object"] == "list" and listed["url"] == "/v1/charges"


def test_invoice_uses_current_api_fields(world):
    """Invoices name their subscription under parent; no legacy top-level links."""
    invoice = world["invoice"]
    assert invoice["parent"]["type"] == "subscription_details"
    assert invoice["parent"]["subscription_details"]["subscription"].startswith("sub_")
    assert invoice["parent"]["subscription_details"]["metadata"] == {
        "story": "river-report",
        "variant": "a",
    }
    for legacy in ("subscription", "payment_intent", "charge"):
        assert legacy not in invoice
    payment = world["invoice_payment"]
    assert payment["payment"]["type"] == "payment_intent"
    assert payment["payment"]["payment_intent"].startswith("pi_")


def test_sdk_reads_objects_as_typed_resources(client, paid_one_off):
    """The official SDK maps the JSON to its classes (so `object` values are right)."""
    assert isinstance(paid_one_off, stripe.checkout.Session)
    assert isinstance(paid_one_off.payment_intent, stripe.PaymentIntent)
    assert isinstance(paid_one_off.payment_intent.latest_charge, stripe.Charge)

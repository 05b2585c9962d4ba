"""Checkout Sessions, Customers and the portal session through the SDK."""

import time

import pytest
import stripe

from .helpers import CANCEL_URL, SUCCESS_URL, monthly_params, one_off_params


def test_create_one_off_session(client, emulator):
    """A donate-mode payment session with inline price_data and metadata."""
    session = client.v1.checkout.sessions.create(
        params=one_off_params(
            amount=2500,
            currency="eur",
            customer_email="reader@example.com",
            client_reference_id="reader-42",
            locale="fr",
        )
    )
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.mode, session.submit_type, session.status) == ("payment", "donate", "open")
    assert (session.amount_total, session.currency) == (2500, "eur")
    assert session.payment_status == "unpaid"
    assert session.payment_intent is None  # created at confirmation in the current API
    assert session.customer is None
    assert session.customer_email == "reader@example.com"
    assert session.client_reference_id == "reader-42"
    assert session.metadata.to_dict() == {"story": "council-budget", "variant": "b"}
    assert session.url == f"{emulator.url}/c/pay/{session.id}"
    assert session.success_url == SUCCESS_URL
    assert session.cancel_url == CANCEL_URL
    assert session.expires_at > time.time() + 23 * 3600


def test_create_subscription_session(client):
    """A subscription session has no PaymentIntent and no Subscription yet."""
    session = client.v1.checkout.sessions.create(params=monthly_params(amount=700))
    assert session.mode == "subscription"
    assert session.subscription is None and session.payment_intent is None
    assert session.amount_total == 700
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert items.data[0].price.recurring.interval == "month"
    assert items.data[0].price.unit_amount == 700
    assert items.data[0].description == "Support our journalism"


def test_expires_at_within_stripes_window(client):
    """expires_at 30 min to 24 h ahead is kept as given."""
    at = int(time.time()) + 3600
    session = client.v1.checkout.sessions.create(params=one_off_params(expires_at=at))
    assert session.expires_at == at


def test_existing_customer_and_customer_email_are_exclusive(client):
    """customer and customer_email cannot both be given."""
    customer = client.v1.customers.create(params={"email": "x@example.com"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(
            params=one_off_params(customer=customer.id, customer_email="y@example.com")
        )
    assert caught.value.code == "parameters_exclusive"


def test_expire_session(client):
    """Expiring an open session closes it and it cannot be expired twice."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired" and expired.url is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)


def test_list_sessions_filters(client, pay):
    """Sessions filter by status, payment_intent, customer and subscription."""
    one_off = client.v1.checkout.sessions.create(params=one_off_params())
    monthly = client.v1.checkout.sessions.create(params=monthly_params())
    still_open = client.v1.checkout.sessions.create(params=one_off_params())
    pay(one_off.id)
    pay(monthly.id)
    one_off = client.v1.checkout.sessions.retrieve(one_off.id)
    monthly = client.v1.checkout.sessions.retrieve(monthly.id)

    def ids(**filters):
        return [s.id for s in client.v1.checkout.sessions.list(params=filters).data]

    assert ids() == [still_open.id, monthly.id, one_off.id]  # newest first
    assert ids(status="open") == [still_open.id]
    assert ids(status="complete") == [monthly.id, one_off.id]
    assert ids(payment_intent=one_off.payment_intent) == [one_off.id]
    assert ids(subscription=monthly.subscription) == [monthly.id]
    assert ids(customer=monthly.customer) == [monthly.id]
    assert ids(customer_details={"email": "supporter@example.com"}) == [monthly.id, one_off.id]


def test_list_pagination_round_trip(client):
    """limit / starting_after / ending_before / has_more, and SDK auto-paging."""
    created = [
        client.v1.customers.create(params={"email": f"r{i}@example.com"}).id for i in range(5)
    ]
    newest_first = created[::-1]
    page = client.v1.customers.list(params={"limit": 2})
    assert [c.id for c in page.data] == newest_first[:2] and page.has_more
    page = client.v1.customers.list(params={"limit": 2, "starting_after": newest_first[1]})
    assert [c.id for c in page.data] == newest_first[2:4] and page.has_more
    page = client.v1.customers.list(params={"limit": 2, "starting_after": newest_first[3]})
    assert [c.id for c in page.data] == newest_first[4:] and not page.has_more
    page = client.v1.customers.list(params={"limit": 2, "ending_before": newest_first[4]})
    assert [c.id for c in page.data] == newest_first[2:4] and page.has_more
    every = client.v1.customers.list(params={"limit": 2}).auto_paging_iter()
    assert [c.id for c in every] == newest_first


def test_list_limit_bounds(client):
    """limit must be 1..100."""
    for limit in (0, 101):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.customers.list(params={"limit": limit})
        assert caught.value.param == "limit"


def test_customers_create_retrieve_list(client):
    """Customers: create with metadata, retrieve, filter by email."""
    made = client.v1.customers.create(
        params={"email": "ann@example.com", "name": "Ann", "metadata": {"reader": "r1"}}
    )
    assert made.id.startswith("cus_")
    fetched = client.v1.customers.retrieve(made.id)
    assert (fetched.email, fetched.name, fetched.metadata["reader"]) == (
        "ann@example.com",
        "Ann",
        "r1",
    )
    client.v1.customers.create(params={"email": "bob@example.com"})
    found = client.v1.customers.list(params={"email": "ann@example.com"}).data
    assert [c.id for c in found] == [made.id]


def test_session_expansions(client, pay):
    """expand[] follows ids, dotted paths, includable line_items and list data."""
    session = client.v1.checkout.sessions.create(params=monthly_params())
    pay(session.id)
    full = client.v1.checkout.sessions.retrieve(
        session.id,
        params={
            "expand": [
                "customer",
                "line_items",
                "subscription.latest_invoice.payments",
                "invoice",
            ]
        },
    )
    assert full.customer.object == "customer"
    assert full.line_items.data[0].quantity == 1
    invoice = full.subscription.latest_invoice
    assert invoice.object == "invoice" and invoice.id == full.invoice.id
    assert invoice.payments.data[0].payment.payment_intent.startswith("pi_")
    deep = client.v1.invoices.retrieve(
        invoice.id,
        params={
            "expand": [
                "payments.data.payment.payment_intent",
                "parent.subscription_details.subscription",
            ]
        },
    )
    assert deep.payments.data[0].payment.payment_intent.status == "succeeded"
    assert deep.parent.subscription_details.subscription.id == full.subscription.id
    listed = client.v1.checkout.sessions.list(params={"expand": ["data.customer"]})
    assert listed.data[0].customer.email == "supporter@example.com"


def test_unexpandable_path_is_refused(client):
    """Expanding a field that is not expandable is a 400 naming expand."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["mode"]})
    assert caught.value.param == "expand"


def test_portal_session(client, subscribe, emulator):
    """A billing portal session for a customer, with a hosted URL."""
    sub = subscribe()
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": sub.customer, "return_url": "https://news.example/account"}
    )
    assert portal.id.startswith("bps_")
    assert portal.url == f"{emulator.url}/p/session/{portal.id}"
    assert portal.return_url == "https://news.example/account"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.billing_portal.sessions.create(params={"customer": "cus_nope"})
    # A missing object named by a parameter is a 400 on Stripe (404: only the URL's object).
    assert (caught.value.http_status, caught.value.param) == (400, "customer")


def test_session_expires_when_its_time_has_passed(client, emulator, control):
    """A session read after its expires_at is expired (and the event is emitted)."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    with emulator.state.store.lock:  # stand-in for waiting 24 hours
        emulator.state.store.get(session.id)["expires_at"] = int(time.time()) - 1
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert [e["type"] for e in control("GET", "/events").json()["data"]] == [
        "checkout.session.expired"
    ]
    answer = control("POST", f"/checkout/{session.id}/pay", data={"card": "4242424242424242"})
    assert answer.json()["status"] == "expired"

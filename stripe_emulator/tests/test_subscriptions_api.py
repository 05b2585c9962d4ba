"""POST /v1/subscriptions, and updates (items, pause_collection) of subscriptions made so."""

import json

import pytest
import stripe

from .helpers import conforming


@pytest.fixture
def card_customer(client):
    """A customer whose default card for invoices is `card` (a test PaymentMethod name)."""

    def make(card="pm_card_visa"):
        customer = client.v1.customers.create(params={"email": "reader@example.com"})
        method = client.v1.payment_methods.attach(card, params={"customer": customer.id})
        client.v1.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
        )
        return customer, method

    return make


@pytest.fixture
def monthly_price(client):
    return client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 500, "recurring": {"interval": "month"},
                "product_data": {"name": "Membership"}}
    )


def test_create_pays_first_invoice_with_customer_default(client, api, webhooks, card_customer,
                                                         monthly_price):
    customer, method = card_customer()
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price.id}],
                "metadata": {"story": "x"}, "expand": ["latest_invoice"]}
    )
    assert (sub.status, sub.customer, sub.default_payment_method) == ("active", customer.id, None)
    assert sub.metadata.to_dict() == {"story": "x"}
    item = sub["items"].data[0]
    assert (item.price.id, item.quantity) == (monthly_price.id, 1)
    invoice = sub.latest_invoice
    assert (invoice.status, invoice.amount_paid, invoice.billing_reason) == (
        "paid", 500, "subscription_create")
    webhooks.wait_for("invoice.paid")
    types = webhooks.types()
    for event_type in ("customer.subscription.created", "invoice.created", "invoice.finalized",
                       "charge.succeeded", "payment_intent.succeeded", "invoice.paid"):
        assert event_type in types
    charge = client.v1.charges.list(params={"customer": customer.id}).data[0]
    assert (charge.amount, charge.payment_method) == (500, method.id)
    assert [s.id for s in client.v1.subscriptions.list(params={"customer": customer.id}).data] \
        == [sub.id]
    conforming(api, "GET", f"/v1/subscriptions/{sub.id}?expand[]=latest_invoice")


def test_create_with_price_data_and_explicit_card(client, card_customer):
    customer, method = card_customer()
    product = client.v1.products.create(params={"name": "Support"})
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "default_payment_method": method.id,
            "items": [{"price_data": {"currency": "usd", "product": product.id,
                                      "unit_amount": 1200, "recurring": {"interval": "year"}},
                       "quantity": 2}],
        }
    )
    assert (sub.status, sub.default_payment_method) == ("active", method.id)
    item = sub["items"].data[0]
    assert (item.price.unit_amount, item.price.recurring.interval, item.quantity) == (
        1200, "year", 2)
    assert item.price.product == product.id
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.amount_paid == 2400


def test_declined_card_leaves_it_incomplete(client, webhooks, card_customer, monthly_price):
    # The 0341 card attaches; charging it fails (Stripe's "decline after attaching").
    customer, _ = card_customer("pm_card_chargeCustomerFail")
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price.id}]}
    )
    assert sub.status == "incomplete"
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert (invoice.status, invoice.amount_paid, invoice.next_payment_attempt) == ("open", 0, None)
    webhooks.wait_for("invoice.payment_failed")
    assert "payment_intent.payment_failed" in webhooks.types()
    assert "customer.subscription.created" in webhooks.types()


def test_error_if_incomplete_creates_nothing(client, card_customer, monthly_price):
    customer, _ = card_customer("pm_card_chargeCustomerFail")
    with pytest.raises(stripe.CardError) as error:
        client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": monthly_price.id}],
                    "payment_behavior": "error_if_incomplete"}
        )
    assert (error.value.http_status, error.value.code) == (402, "card_declined")
    assert client.v1.subscriptions.list(params={"status": "all"}).data == []
    assert client.v1.invoices.list().data == []


def test_create_errors(client, card_customer, monthly_price):
    customer, _ = card_customer()

    def refused(**params):
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.subscriptions.create(params=params)
        return error.value

    items = [{"price": monthly_price.id}]
    assert refused(items=items).param == "customer"
    assert refused(customer=customer.id).param == "items"
    assert refused(customer="cus_nope", items=items).http_status == 400
    assert refused(customer=customer.id, items=[{"price": "price_nope"}]).param == \
        "items[0][price]"
    assert refused(customer=customer.id, items=items, trial_period_days=7).code == \
        "parameter_unknown"
    one_off = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 500, "product": monthly_price.product})
    assert "one_time" in str(refused(customer=customer.id, items=[{"price": one_off.id}]))
    yearly = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 500, "product": monthly_price.product,
                "recurring": {"interval": "year"}})
    mixed = refused(customer=customer.id, items=[{"price": monthly_price.id},
                                                 {"price": yearly.id}])
    assert mixed.param == "items"
    cardless = client.v1.customers.create(params={"email": "c@example.com"})
    assert "no attached payment source" in str(refused(customer=cardless.id, items=items))


def test_update_items_and_pause_then_cancel(client, card_customer, monthly_price):
    customer, _ = card_customer()
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price.id}]})
    item_id = sub["items"].data[0].id
    dearer = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 900, "product": monthly_price.product,
                "recurring": {"interval": "month"}})
    updated = client.v1.subscriptions.update(
        sub.id,
        params={"items": [{"id": item_id, "price": dearer.id}], "proration_behavior": "none",
                "pause_collection": {"behavior": "void"}},
    )
    assert updated["items"].data[0].price.id == dearer.id
    assert updated.pause_collection.behavior == "void"
    inline = client.v1.subscriptions.update(
        sub.id,
        params={"items": [{"id": item_id, "price_data": {
            "currency": "usd", "product": monthly_price.product, "unit_amount": 1100,
            "recurring": {"interval": "month"}}}], "proration_behavior": "none",
            "pause_collection": ""},
    )
    assert inline["items"].data[0].price.unit_amount == 1100
    assert inline.pause_collection is None
    canceled = client.v1.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.subscriptions.update(sub.id, params={"description": "late"})
    assert error.value.http_status == 400
    assert str(error.value).endswith(
        "A canceled subscription can only update its cancellation_details and metadata.")
    kept = client.v1.subscriptions.update(sub.id, params={"metadata": {"note": "ok"}})
    assert kept.metadata["note"] == "ok"


def test_create_is_idempotent(api, client, card_customer, monthly_price):
    customer, _ = card_customer()
    data = {"customer": customer.id, "items[0][price]": monthly_price.id}
    headers = {"Idempotency-Key": "sub-1"}
    first = api("POST", "/v1/subscriptions", data=data, headers=headers).json()
    again = api("POST", "/v1/subscriptions", data=data, headers=headers).json()
    assert first["id"] == again["id"]
    assert len(client.v1.subscriptions.list().data) == 1


def test_events_of_the_new_endpoints_fit_the_event_schema(client, webhooks, card_customer):
    from .conformance import event_violations

    price = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 500, "recurring": {"interval": "month"},
                "product_data": {"name": "Membership"}})
    client.v1.prices.update(price.id, params={"nickname": "Monthly", "metadata": {"a": "b"}})
    client.v1.products.update(price.product, params={"name": "Members", "default_price": price.id})
    customer, method = card_customer()
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(intent.id,
                                          params={"payment_method": "pm_card_chargeDeclined"})
    client.v1.payment_intents.cancel(intent.id)
    client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    webhooks.wait_for("invoice.paid")


    bodies = [json.loads(body) for _, _, body, _ in webhooks.received]
    types = {body["type"] for body in bodies}
    assert {"price.created", "price.updated", "product.created", "product.updated",
            "payment_intent.created", "payment_intent.payment_failed",
            "payment_intent.canceled", "customer.subscription.created"} <= types
    found = {body["type"]: event_violations(body) for body in bodies}
    assert {key: value for key, value in found.items() if value} == {}

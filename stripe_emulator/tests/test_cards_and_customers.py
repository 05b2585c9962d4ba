"""Saving a new card (Checkout in setup mode, the portal's payment-method flow), reading
PaymentMethods and SetupIntents, and updating and deleting customers."""

import pytest
import requests
import stripe

from .helpers import WEBHOOK_SECRET

CARD_FORM = {"email": "reader@example.com", "expiry": "12 / 34", "cvc": "123"}
MANAGE_URL = "https://news.example/support/manage"


def setup_params(customer, **extra):
    return {
        "mode": "setup",
        "customer": customer,
        "currency": "usd",
        "success_url": MANAGE_URL + "?card={CHECKOUT_SESSION_ID}",
        "cancel_url": MANAGE_URL,
        "setup_intent_data": {"metadata": {"subscription": "sub_from_app"}},
        **extra,
    }


def _received(webhooks, event_type):
    return [
        stripe.Webhook.construct_event(body, sig, WEBHOOK_SECRET).data.object
        for kind, _, body, sig in webhooks.received
        if kind == event_type
    ]


def test_setup_session_is_created_with_its_setup_intent(client, subscribe):
    """mode=setup: no amount, no payment, a SetupIntent waiting for a card."""
    sub = subscribe()
    session = client.v1.checkout.sessions.create(params=setup_params(sub.customer))
    assert (session.mode, session.status, session.payment_status) == (
        "setup", "open", "no_payment_required")
    assert session.amount_total is None and session.currency == "usd"
    assert session.url.endswith(f"/c/pay/{session.id}")
    intent = client.v1.setup_intents.retrieve(session.setup_intent)
    assert (intent.status, intent.customer, intent.usage) == (
        "requires_payment_method", sub.customer, "off_session")
    assert intent.metadata.to_dict() == {"subscription": "sub_from_app"}
    assert intent.payment_method is None
    assert client.v1.events.list(params={"limit": 1}).data[0].type == "setup_intent.created"
    page = requests.get(session.url, timeout=10).text
    assert "Save a card" in page and ">Save card<" in page and "data-amount" not in page


def test_setup_checkout_saves_and_attaches_a_card(client, subscribe, pay, webhooks):
    """Paying a setup session: a PaymentMethod on the customer, a succeeded SetupIntent,
    and the events in Stripe's order; no default payment method is changed."""
    sub = subscribe()
    webhooks.wait_for("checkout.session.completed")
    start = len(webhooks.received)
    session = client.v1.checkout.sessions.create(params=setup_params(sub.customer))
    answer = pay(session.id, card="5555555555554444")
    assert answer["status"] == "complete"
    assert answer["redirect_url"] == f"{MANAGE_URL}?card={session.id}"
    webhooks.wait_for("checkout.session.completed")
    assert [kind for kind, *_ in webhooks.received[start:]] == [
        "setup_intent.created",
        "payment_method.attached",
        "setup_intent.succeeded",
        "checkout.session.completed",
    ]
    completed = _received(webhooks, "checkout.session.completed")[-1]
    assert (completed.mode, completed.status, completed.customer) == (
        "setup", "complete", sub.customer)
    assert completed.payment_status == "no_payment_required"
    session = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["setup_intent.payment_method"]}
    )
    method = session.setup_intent.payment_method
    assert session.setup_intent.status == "succeeded"
    assert (method.customer, method.card.brand, method.card.last4) == (
        sub.customer, "mastercard", "4444")
    assert client.v1.subscriptions.retrieve(sub.id).default_payment_method == (
        sub.default_payment_method)
    customer = client.v1.customers.retrieve(sub.customer)
    assert customer.invoice_settings.default_payment_method is None
    listed = client.v1.payment_methods.list(params={"customer": sub.customer}).data
    assert [m.id for m in listed] == [method.id, sub.default_payment_method]


def test_declined_card_in_setup_mode(client, subscribe, pay):
    """A declined card fails the SetupIntent (setup_intent.setup_failed); the session stays open."""
    sub = subscribe()
    session = client.v1.checkout.sessions.create(params=setup_params(sub.customer))
    answer = pay(session.id, card="4000000000000002")
    assert answer["status"] == "failed" and answer["error"]["decline_code"] == "generic_decline"
    session = client.v1.checkout.sessions.retrieve(session.id)
    intent = client.v1.setup_intents.retrieve(session.setup_intent)
    assert session.status == "open" and intent.status == "requires_payment_method"
    assert intent.last_setup_error.code == "card_declined"
    assert client.v1.events.list(params={"limit": 1}).data[0].type == "setup_intent.setup_failed"
    assert pay(session.id)["status"] == "complete"


def test_expiring_a_setup_session_cancels_its_setup_intent(client, subscribe, pay):
    """An expired setup session leaves its SetupIntent canceled and takes no card."""
    sub = subscribe()
    session = client.v1.checkout.sessions.expire(
        client.v1.checkout.sessions.create(params=setup_params(sub.customer)).id
    )
    intent = client.v1.setup_intents.retrieve(session.setup_intent)
    assert (intent.status, intent.cancellation_reason) == ("canceled", "abandoned")
    assert pay(session.id)["status"] == "expired"


def test_setup_page_with_3d_secure(client, subscribe):
    """On the hosted page, 3155 asks for authentication; completing it saves the card."""
    sub = subscribe()
    session = client.v1.checkout.sessions.create(params=setup_params(sub.customer))
    first = requests.post(
        session.url, data={**CARD_FORM, "card_number": "4000 0025 0000 3155"}, timeout=10
    )
    assert first.status_code == 200 and "/authenticate" in first.text
    done = requests.post(
        f"{session.url}/authenticate", data={"action": "complete"}, allow_redirects=False,
        timeout=10,
    )
    assert done.status_code == 303 and done.headers["Location"].startswith(MANAGE_URL)
    intent = client.v1.setup_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).setup_intent
    )
    assert intent.status == "succeeded"


def test_a_saved_card_pays_the_renewals_once_the_app_sets_it(client, subscribe, pay, control):
    """The app names the new card on the subscription; a card whose charges fail (0341)
    then makes the renewal fail, where the old card paid."""
    sub = subscribe()
    session = client.v1.checkout.sessions.create(params=setup_params(sub.customer))
    assert pay(session.id, card="4000000000000341")["status"] == "complete"
    intent = client.v1.setup_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).setup_intent
    )
    client.v1.subscriptions.update(sub.id, params={"default_payment_method": intent.payment_method})
    answer = control("POST", f"/subscriptions/{sub.id}/advance").json()
    assert (answer["paid"], answer["status"]) == (False, "past_due")


@pytest.mark.parametrize(
    "extra, param, code",
    [
        ({"currency": None}, "currency", "parameter_missing"),
        ({"currency": "xyz"}, "currency", None),
        ({"line_items": [{"price": "price_x", "quantity": 1}]}, "line_items", None),
        ({"customer": "cus_missing"}, "customer", "resource_missing"),
        ({"setup_intent_data": {"usage": "on_session"}}, "setup_intent_data[usage]",
         "parameter_unknown"),
    ],
)
def test_setup_session_mistakes(client, extra, param, code):
    """Setup-mode sessions refuse what Stripe refuses, naming the param."""
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    params = {k: v for k, v in {**setup_params(customer.id), **extra}.items() if v is not None}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.create(params=params)
    assert raised.value.error.param == param
    if code:
        assert raised.value.code == code


def test_setup_intent_data_only_in_setup_mode(client):
    """setup_intent_data on a payment session is a 400."""
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.create(params={
            "mode": "payment", "success_url": MANAGE_URL,
            "line_items": [{"price_data": {"currency": "usd", "unit_amount": 500,
                                           "product_data": {"name": "Gift"}}, "quantity": 1}],
            "setup_intent_data": {"metadata": {"a": "b"}},
        })
    assert raised.value.error.param == "setup_intent_data"


def test_portal_payment_method_update_flow(client, subscribe, webhooks):
    """flow_data[type]=payment_method_update opens on a card form; the new card becomes the
    customer's and the subscription's default, then the portal redirects back."""
    sub = subscribe()
    webhooks.wait_for("checkout.session.completed")
    start = len(webhooks.received)
    portal = client.v1.billing_portal.sessions.create(params={
        "customer": sub.customer,
        "return_url": MANAGE_URL,
        "flow_data": {"type": "payment_method_update",
                      "after_completion": {"type": "redirect",
                                           "redirect": {"return_url": MANAGE_URL + "?done=1"}}},
    })
    assert portal.flow.type == "payment_method_update"
    assert portal.flow.after_completion.redirect.return_url == MANAGE_URL + "?done=1"
    page = requests.get(portal.url, timeout=10).text
    assert 'name="card_number"' in page
    declined = _type_card(portal, "4000000000000002")
    assert declined.status_code == 402 and "declined" in declined.text
    saved = _type_card(portal, "5555 5555 5555 4444")
    assert saved.status_code == 303 and saved.headers["Location"] == MANAGE_URL + "?done=1"
    customer = client.v1.customers.retrieve(
        sub.customer, params={"expand": ["invoice_settings.default_payment_method"]}
    )
    method = customer.invoice_settings.default_payment_method
    assert (method.card.last4, method.customer) == ("4444", sub.customer)
    assert client.v1.subscriptions.retrieve(sub.id).default_payment_method == method.id
    webhooks.wait_for("customer.subscription.updated")
    assert [kind for kind, *_ in webhooks.received[start:]] == [
        "payment_method.attached",
        "customer.updated",
        "customer.subscription.updated",
    ]


def _type_card(portal, number):
    """Submit the portal's card form as a person would, with `number` and a valid expiry."""
    return requests.post(f"{portal.url}/payment_method", allow_redirects=False, timeout=10,
                         data={"card_number": number, "expiry": "12/34", "cvc": "123"})


def test_portal_flow_mistakes(client, subscribe):
    """Other flows and a redirect without its URL are refused; bad cards re-show the form."""
    sub = subscribe()
    for flow_data, param in [
        ({"type": "subscription_cancel"}, "flow_data[type]"),
        ({"type": "payment_method_update", "after_completion": {"type": "redirect"}},
         "flow_data[after_completion][redirect]"),
    ]:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.billing_portal.sessions.create(
                params={"customer": sub.customer, "flow_data": flow_data}
            )
        assert raised.value.error.param == param
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": sub.customer, "flow_data": {"type": "payment_method_update"}}
    )
    bad = _type_card(portal, "1234")
    assert bad.status_code == 400 and "invalid" in bad.text
    home = _type_card(portal, "4242424242424242")
    assert home.headers["Location"].endswith("?view=home")


def test_customer_update_sets_the_default_card(client, subscribe):
    """invoice_settings[default_payment_method] takes only the customer's own cards."""
    mine, theirs = subscribe(), subscribe()
    updated = client.v1.customers.update(mine.customer, params={
        "invoice_settings": {"default_payment_method": mine.default_payment_method},
        "name": "Ada Reader",
    })
    assert updated.invoice_settings.default_payment_method == mine.default_payment_method
    event = client.v1.events.list(params={"type": "customer.updated"}).data[0]
    assert event.data.previous_attributes.to_dict() == {
        "name": None,
        "invoice_settings": {**updated.invoice_settings.to_dict(), "default_payment_method": None},
    }
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.update(mine.customer, params={
            "invoice_settings": {"default_payment_method": theirs.default_payment_method}})
    assert raised.value.error.param == "invoice_settings[default_payment_method]"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.update(mine.customer, params={"email": "not-an-email"})
    assert raised.value.code == "email_invalid"


def test_renewal_falls_back_to_the_customers_default_card(client, subscribe, control, pay):
    """With no card on the subscription, invoices use the customer's default."""
    sub = subscribe()
    session = client.v1.checkout.sessions.create(params=setup_params(sub.customer))
    pay(session.id, card="4000000000000341")
    failing = client.v1.setup_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).setup_intent).payment_method
    client.v1.customers.update(
        sub.customer, params={"invoice_settings": {"default_payment_method": failing}}
    )
    assert control("POST", f"/subscriptions/{sub.id}/advance").json()["paid"] is True
    assert client.v1.charges.list(params={"limit": 1}).data[0].payment_method == (
        sub.default_payment_method)


def test_delete_customer_cancels_its_subscriptions(client, subscribe, webhooks):
    """DELETE /v1/customers/:id: subscriptions end, then customer.deleted; the customer
    answers as a deleted stub and leaves the list."""
    sub = subscribe()
    webhooks.wait_for("checkout.session.completed")
    start = len(webhooks.received)
    deleted = client.v1.customers.delete(sub.customer)
    assert deleted.to_dict() == {"id": sub.customer, "object": "customer", "deleted": True}
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    webhooks.wait_for("customer.deleted")
    assert [kind for kind, *_ in webhooks.received[start:]] == [
        "customer.subscription.deleted",
        "customer.deleted",
    ]
    assert _received(webhooks, "customer.deleted")[0].email == "supporter@example.com"
    again = client.v1.customers.retrieve(sub.customer)
    assert again.deleted is True and again.to_dict() == deleted.to_dict()
    assert client.v1.customers.list().data == []
    for call, status in (
        (lambda: client.v1.customers.delete(sub.customer), 404),
        (lambda: client.v1.customers.update(sub.customer, params={"name": "x"}), 404),
        (lambda: client.v1.customers.delete("cus_missing"), 404),
        # Named by a parameter, not in the URL: Stripe's 400.
        (lambda: client.v1.billing_portal.sessions.create(params={"customer": sub.customer}),
         400),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            call()
        assert (raised.value.http_status, raised.value.code) == (status, "resource_missing")
    expanded = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["customer"]})
    assert expanded.customer.deleted is True


def test_payment_method_reads(client, subscribe, api):
    """PaymentMethods: retrieve, list by customer, the customer's nested list, 404."""
    sub = subscribe()
    method = client.v1.payment_methods.retrieve(sub.default_payment_method)
    assert (method.type, method.customer, method.card.last4) == ("card", sub.customer, "4242")
    nested = api("GET", f"/v1/customers/{sub.customer}/payment_methods").json()
    assert [m["id"] for m in nested["data"]] == [method.id]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_methods.retrieve("pm_missing")
    assert raised.value.http_status == 404
    expanded = client.v1.subscriptions.retrieve(
        sub.id, params={"expand": ["default_payment_method"]}
    )
    assert expanded.default_payment_method.card.brand == "visa"

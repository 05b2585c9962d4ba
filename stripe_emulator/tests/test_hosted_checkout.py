"""The hosted Checkout page, driven with plain form posts, and the webhooks it causes."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import stripe

from .helpers import CANCEL_URL, WEBHOOK_SECRET, monthly_params, one_off_params

CARD_FORM = {"email": "reader@example.com", "expiry": "12 / 34", "cvc": "123"}


def submit(session, card, **fields):
    """Post the payment form of the session's hosted page, without following redirects."""
    return requests.post(
        session.url,
        data={**CARD_FORM, "card_number": card, **fields},
        allow_redirects=False,
        timeout=10,
    )


def test_page_shows_amount_frequency_and_cancel_link(client):
    """The page shows the formatted amount, how often, a Donate button and cancel link."""
    one_off = client.v1.checkout.sessions.create(params=one_off_params(amount=1250))
    page = requests.get(one_off.url, timeout=10).text
    assert "$12.50" in page and "One-off" in page and ">Donate<" in page
    assert f'href="{CANCEL_URL}"' in page
    for field in ("email", "card_number", "expiry", "cvc"):
        assert f'name="{field}"' in page
    monthly = client.v1.checkout.sessions.create(params=monthly_params(amount=500, currency="gbp"))
    page = requests.get(monthly.url, timeout=10).text
    assert "£5.00" in page and "Monthly" in page and ">Subscribe<" in page
    annual = client.v1.checkout.sessions.create(params=monthly_params(interval="year"))
    assert "Annual" in requests.get(annual.url, timeout=10).text


def test_one_off_checkout_on_the_page(client, webhooks):
    """4242 pays: 303 to success_url with the session id, signed events delivered."""
    session = client.v1.checkout.sessions.create(params=one_off_params(amount=1500))
    response = submit(session, "4242 4242 4242 4242")
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.netloc == "news.example"
    assert parse_qs(location.query)["session_id"] == [session.id]

    webhooks.wait_for("checkout.session.completed")
    assert webhooks.types() == [
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]
    events = {}
    for _, _, body, signature in webhooks.received:
        event = stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET)
        events[event.type] = event.data.object
    completed = events["checkout.session.completed"]
    assert completed.id == session.id and completed.payment_status == "paid"
    assert completed.customer is None  # one-off without customer_creation=always
    assert completed.customer_details.email == "reader@example.com"
    intent = events["payment_intent.succeeded"]
    assert intent.id == completed.payment_intent
    assert intent.metadata.to_dict() == {"story": "council-budget", "variant": "b"}
    charge = events["charge.succeeded"]
    assert charge.payment_intent == intent.id and charge.amount == 1500
    assert charge.billing_details.email == "reader@example.com"
    assert charge.metadata.to_dict() == intent.metadata.to_dict()


def test_signature_fails_with_another_secret(client, webhooks):
    """The signature really is over the payload with the configured secret."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    submit(session, "4242424242424242")
    webhooks.wait_for("checkout.session.completed")
    _, _, body, signature = webhooks.received[-1]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", signature)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature, "whsec_other")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body + b" ", signature, WEBHOOK_SECRET)


def test_customer_creation_always(client, pay):
    """customer_creation=always makes a Customer for a one-off gift."""
    session = client.v1.checkout.sessions.create(
        params=one_off_params(customer_creation="always", customer_email="c@example.com")
    )
    pay(session.id)
    session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["customer"]})
    assert session.customer.email == "c@example.com"
    intent = client.v1.payment_intents.retrieve(session.payment_intent)
    assert intent.customer == session.customer.id


def test_monthly_checkout_on_the_page(client, webhooks):
    """A subscription checkout: Customer, Subscription, paid first invoice, events in order."""
    session = client.v1.checkout.sessions.create(params=monthly_params(amount=500))
    response = submit(session, "4242424242424242")
    assert response.status_code == 303
    webhooks.wait_for("checkout.session.completed")
    assert webhooks.types() == [
        "customer.created",
        "payment_method.attached",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
        "customer.subscription.updated",
        "checkout.session.completed",
    ]
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.payment_intent is None
    assert session.subscription.startswith("sub_") and session.invoice.startswith("in_")
    sub = client.v1.subscriptions.retrieve(session.subscription)
    assert sub.status == "active" and sub.customer == session.customer
    assert sub.metadata.to_dict() == {"story": "river-report", "variant": "a"}
    item = sub["items"].data[0]
    assert item.price.recurring.interval == "month"
    assert item.current_period_end > item.current_period_start
    invoice = client.v1.invoices.retrieve(session.invoice, params={"expand": ["payments"]})
    assert invoice.billing_reason == "subscription_create"
    assert (invoice.status, invoice.amount_paid) == ("paid", 500)
    assert invoice.parent.subscription_details.subscription == sub.id
    assert invoice.parent.subscription_details.metadata["story"] == "river-report"
    intent = client.v1.payment_intents.retrieve(invoice.payments.data[0].payment.payment_intent)
    assert intent.status == "succeeded" and intent.amount == 500

    created = _event(webhooks, "customer.subscription.created")
    assert created.status == "incomplete"
    updated = stripe.Webhook.construct_event(
        *_raw(webhooks, "customer.subscription.updated"), WEBHOOK_SECRET
    )
    assert updated.data.object.status == "active"
    assert updated.data.previous_attributes.status == "incomplete"


def test_declined_card_stays_on_the_page(client, webhooks):
    """4000...0002: Stripe's message on the page, payment_intent.payment_failed emitted."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    response = submit(session, "4000 0000 0000 0002")
    assert response.status_code == 402
    assert "Your card was declined." in response.text
    assert 'name="card_number"' in response.text  # still the payment form
    webhooks.wait_for("payment_intent.payment_failed")
    failed = _event(webhooks, "payment_intent.payment_failed")
    assert failed.last_payment_error.code == "card_declined"
    assert failed.last_payment_error.decline_code == "generic_decline"
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.status == "open" and session.payment_intent == failed.id
    # The same session can still be paid with another card.
    assert submit(session, "4242424242424242").status_code == 303
    assert client.v1.payment_intents.retrieve(failed.id).status == "succeeded"


def test_insufficient_funds(client, pay):
    """4000...9995 fails with decline_code insufficient_funds."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    page = submit(session, "4000000000009995")
    assert "Your card has insufficient funds." in page.text
    result = pay(session.id, "4000000000009995")
    assert result["status"] == "failed"
    assert result["error"]["decline_code"] == "insufficient_funds"


def test_declined_subscription_creates_nothing(client, pay, control):
    """A declined first payment leaves no Subscription and emits no events."""
    session = client.v1.checkout.sessions.create(params=monthly_params())
    assert pay(session.id, "4000000000000002")["status"] == "failed"
    assert client.v1.subscriptions.list(params={"status": "all"}).data == []
    assert control("GET", "/events").json()["data"] == []


def test_page_input_errors(client):
    """Bad card numbers, expiry and CVC are caught on the page with Stripe's wording."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    assert "Your card number is invalid." in submit(session, "4242424242424241").text
    assert (
        "expiration date is in the past" in submit(session, "4242424242424242", expiry="01/20").text
    )
    assert "security code is incomplete" in submit(session, "4242424242424242", cvc="1").text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


@pytest.mark.parametrize("mode_params", [one_off_params, monthly_params])
def test_3d_secure_complete(client, mode_params):
    """4000 0025 0000 3155 shows an authentication step; Complete pays."""
    session = client.v1.checkout.sessions.create(params=mode_params())
    step = submit(session, "4000002500003155")
    assert step.status_code == 200
    assert 'value="complete"' in step.text and 'value="fail"' in step.text
    done = requests.post(
        f"{session.url}/authenticate",
        data={"action": "complete"},
        allow_redirects=False,
        timeout=10,
    )
    assert done.status_code == 303
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"


def test_3d_secure_fail(client, webhooks):
    """Failing authentication keeps the reader on the page with Stripe's message."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    submit(session, "4000002500003155")
    failed = requests.post(f"{session.url}/authenticate", data={"action": "fail"}, timeout=10)
    assert failed.status_code == 402
    assert "unable to authenticate your payment method" in failed.text
    webhooks.wait_for("payment_intent.payment_failed")
    intent = _event(webhooks, "payment_intent.payment_failed")
    assert intent.last_payment_error.code == "payment_intent_authentication_failure"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_control_pay_answers_3d_secure(client, pay):
    """The control route takes authenticate=complete|fail for the 3155 card."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    assert pay(session.id, "4000002500003155", authenticate="fail")["status"] == "failed"
    result = pay(session.id, "4000002500003155")
    assert result["status"] == "complete"
    assert result["redirect_url"].endswith(f"session_id={session.id}")
    charge = client.v1.charges.list().data[0]
    assert charge.payment_method_details.card.three_d_secure.result == "authenticated"


def test_paying_twice_or_after_expiry_is_refused(client, control):
    """A complete or expired session cannot be paid again."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    url = f"/checkout/{session.id}/pay"
    assert control("POST", url, data={"card": "4242424242424242"}).status_code == 200
    again = control("POST", url, data={"card": "4242424242424242"})
    assert (again.status_code, again.json()["status"]) == (409, "already_complete")
    assert len(client.v1.charges.list().data) == 1
    other = client.v1.checkout.sessions.create(params=one_off_params())
    client.v1.checkout.sessions.expire(other.id)
    late = control("POST", f"/checkout/{other.id}/pay", data={"card": "4242424242424242"})
    assert (late.status_code, late.json()["status"]) == (409, "expired")
    assert "expired" in requests.get(other.url, timeout=10).text


def test_expired_session_event(client, webhooks):
    """Expiring a session emits checkout.session.expired."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    client.v1.checkout.sessions.expire(session.id)
    webhooks.wait_for("checkout.session.expired")
    assert _event(webhooks, "checkout.session.expired").status == "expired"


def _raw(webhooks, event_type):
    for kind, _, body, signature in webhooks.received:
        if kind == event_type:
            return body, signature
    raise AssertionError(f"no {event_type}")


def _event(webhooks, event_type):
    return stripe.Webhook.construct_event(*_raw(webhooks, event_type), WEBHOOK_SECRET).data.object

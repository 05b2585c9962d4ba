"""services/payments.py through the real Stripe SDK against the emulator: answers, errors,
refused redirects and the portal. Elsewhere the app's tests replace this module by a fake."""
import json
import threading

import pytest
import requests
from werkzeug.wrappers import Request, Response

from supportapp.services import payments
from tests.conftest import make_app
from tests.integration.conftest import CARD_OK, serve
from tests.stripe_fakes import WEBHOOK_SECRET


class FaultyFront:
    """A reverse proxy in front of the emulator that can send another Host header (as a
    misconfigured proxy would) and answer the next requests with 500 itself."""

    def __init__(self, target):
        self.target, self.host, self.failures, self.seen = target, None, 0, 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.seen += 1
            fail, self.failures = self.failures > 0, max(0, self.failures - 1)
        if fail:
            body = json.dumps({"error": {"type": "api_error", "message": "injected"}})
            return Response(body, 500, content_type="application/json")(
                environ, start_response)
        # The Host header passes through, as a reverse proxy's does, unless one is imposed.
        headers = {k: v for k, v in request.headers if k.lower() != "content-length"}
        if self.host:
            headers["Host"] = self.host
        upstream = requests.request(request.method, self.target + request.full_path,
                                    data=request.get_data(), headers=headers, timeout=30)
        return Response(upstream.content, upstream.status_code,
                        content_type=upstream.headers.get("Content-Type"))(environ,
                                                                           start_response)


@pytest.fixture
def front(emulator):
    proxy = FaultyFront(emulator.url)
    url, server = serve(proxy)
    proxy.url = url
    yield proxy
    server.shutdown()
    server.server_close()


@pytest.fixture
def sdk_app(tmp_path, emulator, front):
    """An app whose Stripe API base is the emulator, through the faulty front (no database
    is used: these calls only talk to Stripe)."""
    emulator.reset()
    app = make_app(f"sqlite:///{tmp_path / 'unused.db'}", STRIPE_API_BASE=front.url,
                   STRIPE_SECRET_KEY="sk_test_emulator", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    with app.app_context():
        yield app
    emulator.reset()


def _one_off(amount=500):
    params = {"line_items": [{"price_data": {"currency": "usd", "unit_amount": amount,
                                             "product_data": {"name": "Gift"}}, "quantity": 1}],
              "mode": "payment", "submit_type": "donate", "customer_creation": "always",
              "success_url": "http://localhost/thanks?session_id={CHECKOUT_SESSION_ID}",
              "cancel_url": "http://localhost/contribute", "metadata": {"story": "a"}}
    return params


def _monthly(amount=700):
    params = {k: v for k, v in _one_off().items() if k not in ("submit_type",
                                                                "customer_creation")}
    params.update(mode="subscription", line_items=[{"price_data": {
        "currency": "usd", "unit_amount": amount, "product_data": {"name": "Monthly"},
        "recurring": {"interval": "month"}}, "quantity": 1}])
    return params


def _paid_session(front, params, key="k-paid"):
    session_id, url = payments.create_checkout_session(params, key)
    requests.post(f"{front.url}/_emulator/checkout/{session_id}/pay", data={"card": CARD_OK},
                  timeout=30).raise_for_status()
    return session_id, url


def test_session_created_and_read_back_as_plain_data(sdk_app, front):
    """A created session's hosted page is on the allowed origin; reading it back gives plain
    JSON data (no StripeObject), with the metadata that rides on it."""
    session_id, url = payments.create_checkout_session(_one_off(), "k-1")
    assert session_id.startswith("cs_test_") and url.startswith(front.url + "/")
    session = payments.retrieve_checkout_session(session_id)
    assert type(session) is dict and json.loads(json.dumps(session)) == session
    assert session["metadata"] == {"story": "a"} and session["status"] == "open"


def test_same_idempotency_key_same_session(sdk_app):
    """A double submission (same key, same params) creates one session."""
    first = payments.create_checkout_session(_one_off(), "k-twice")
    assert payments.create_checkout_session(_one_off(), "k-twice") == first


def test_charge_balance_transaction_by_intent_and_by_charge(sdk_app, front):
    """The fee of a paid charge, found from its payment intent or its charge id, as plain
    data: $5.00 at 2.9% + 30c is 45c."""
    session_id, _ = _paid_session(front, _one_off(500), key="k-fee")
    intent = payments.retrieve_checkout_session(session_id)["payment_intent"]
    txn = payments.charge_balance_transaction(payment_intent_id=intent)
    assert type(txn) is dict and (txn["fee"], txn["net"], txn["currency"]) == (45, 455, "usd")
    assert payments.charge_balance_transaction(charge_id=txn["source"])["id"] == txn["id"]


@pytest.mark.parametrize("call", [
    lambda: payments.retrieve_checkout_session("cs_test_doesnotexist"),
    lambda: payments.retrieve_subscription("sub_doesnotexist"),
    lambda: payments.charge_payment_intent("ch_doesnotexist"),
    lambda: payments.charge_balance_transaction(charge_id="ch_doesnotexist"),
    lambda: payments.invoice_payment_intent("in_doesnotexist"),
    lambda: payments.create_portal_session("cus_doesnotexist", "http://localhost/"),
    lambda: payments.create_checkout_session({**_one_off(), "payment_method_typez": ["card"]},
                                             "k-bad"),
])
def test_refusals_are_rejected(sdk_app, call):
    """Unknown ids and parameters Stripe refuses are PaymentsRejected: retrying cannot help."""
    with pytest.raises(payments.PaymentsRejected):
        call()


def test_server_errors_are_retried_then_unavailable(sdk_app, front):
    """A 5xx is retried once by the SDK; a second one is PaymentsUnavailable (try later)."""
    front.failures, before = 1, front.seen
    session_id, _ = payments.create_checkout_session(_one_off(), "k-retry")
    assert front.seen - before == 2 and session_id.startswith("cs_test_")
    front.failures = 2
    with pytest.raises(payments.PaymentsUnavailable):
        payments.retrieve_checkout_session(session_id)


def test_unreachable_stripe_is_unavailable(tmp_path):
    """Nothing listening at the API base: PaymentsUnavailable, not a crash."""
    app = make_app(f"sqlite:///{tmp_path / 'unused.db'}", STRIPE_API_BASE="http://127.0.0.1:9",
                   STRIPE_SECRET_KEY="sk_test_emulator")
    with app.app_context(), pytest.raises(payments.PaymentsUnavailable):
        payments.retrieve_checkout_session("cs_test_any")


def test_redirect_to_an_unexpected_origin_is_refused(sdk_app, front):
    """A session or portal URL on neither Stripe's pages nor the API base is never followed."""
    session_id, _ = _paid_session(front, _monthly(), key="k-sub")
    customer = payments.retrieve_checkout_session(session_id)["customer"]
    assert payments.create_portal_session(customer, "http://localhost/").startswith(front.url)
    front.host = "evil.example"
    with pytest.raises(payments.PaymentsRejected):
        payments.create_checkout_session(_one_off(), "k-evil")
    with pytest.raises(payments.PaymentsRejected):
        payments.create_portal_session(customer, "http://localhost/")


def test_subscription_invoice_and_events(sdk_app, front):
    """A paid monthly gift: its subscription, its invoice's payment intent and the events."""
    session_id, _ = _paid_session(front, _monthly(), key="k-monthly")
    session = payments.retrieve_checkout_session(session_id)
    subscription = payments.retrieve_subscription(session["subscription"])
    assert subscription["status"] == "active"
    assert subscription["items"]["data"][0]["price"]["unit_amount"] == 700
    invoice_id = subscription["latest_invoice"]
    assert payments.invoice_payment_intent(invoice_id).startswith("pi_")
    types = [event["type"] for event in payments.events_since(0)]
    assert "checkout.session.completed" in types and "invoice.paid" in types
    assert all(type(event) is dict for event in payments.events_since(0))

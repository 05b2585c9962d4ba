"""What the manage page asks of Stripe, as the SDK puts it on the wire (the emulator must
answer exactly these), and how Stripe's answers come back."""
import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
from werkzeug.wrappers import Request, Response

from supportapp.services import payments
from tests.conftest import make_app
from tests.integration.conftest import serve

SUBSCRIPTION = {"id": "sub_1", "object": "subscription", "items": {"object": "list", "data": [
    {"id": "si_1", "object": "subscription_item",
     "price": {"id": "price_1", "object": "price", "product": "prod_1"}}]}}


class Recorder:
    """A stand-in for Stripe's API that records each request and answers like Stripe."""

    def __init__(self):
        self.seen = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        params = dict(parse_qsl(request.get_data(as_text=True) or request.query_string.decode(),
                                keep_blank_values=True))
        self.seen.append((request.method, request.path, params))
        status, body = 200, SUBSCRIPTION
        if request.path == "/v1/customers/cus_gone":
            status, body = 404, {"error": {"type": "invalid_request_error",
                                           "code": "resource_missing", "message": "No such"}}
        elif request.path.startswith("/v1/customers/"):
            body = {"id": request.path.rsplit("/", 1)[1], "object": "customer", "deleted": True}
        elif request.path == "/v1/billing_portal/sessions":
            body = {"id": "bps_1", "object": "billing_portal.session",
                    "url": "https://billing.stripe.com/p/session/test_1"}
        return Response(json.dumps(body), status, content_type="application/json")(
            environ, start_response)


@pytest.fixture
def stripe_api(tmp_path):
    recorder = Recorder()
    url, server = serve(recorder)
    app = make_app(f"sqlite:///{tmp_path / 'unused.db'}", STRIPE_API_BASE=url)
    with app.app_context():
        yield recorder
    server.shutdown()
    server.server_close()


def test_price_change_sends_inline_price_without_proration(stripe_api):
    """The subscription is read for its item and product, then updated with an inline price
    of the new amount and interval, no proration, and the frequency in its metadata."""
    answer = payments.change_subscription_price("sub_1", 800, "USD", "annual")
    assert answer["id"] == "sub_1"
    assert stripe_api.seen == [
        ("GET", "/v1/subscriptions/sub_1", {}),
        ("POST", "/v1/subscriptions/sub_1", {
            "items[0][id]": "si_1", "items[0][price_data][currency]": "usd",
            "items[0][price_data][product]": "prod_1",
            "items[0][price_data][unit_amount]": "800",
            "items[0][price_data][recurring][interval]": "year",
            "proration_behavior": "none", "metadata[frequency]": "annual"}),
    ]


def test_pause_resume_cancel(stripe_api):
    """Pause voids invoices until a time; resume unsets pause_collection (an empty value);
    cancel is a DELETE with Stripe's feedback code."""
    payments.pause_subscription("sub_1", datetime(2027, 1, 1, tzinfo=UTC))
    payments.resume_subscription("sub_1")
    payments.cancel_subscription("sub_1", "too_expensive")
    assert stripe_api.seen == [
        ("POST", "/v1/subscriptions/sub_1", {"pause_collection[behavior]": "void",
                                             "pause_collection[resumes_at]": "1798761600"}),
        ("POST", "/v1/subscriptions/sub_1", {"pause_collection": ""}),
        ("DELETE", "/v1/subscriptions/sub_1",
         {"cancellation_details[feedback]": "too_expensive"}),
    ]


def test_card_update_session_goes_to_the_payment_method_flow(stripe_api):
    """The portal session opens on "update payment method" and comes back to our URL."""
    url = payments.create_card_update_session("cus_1", "https://news.example/back",
                                              "https://news.example/done")
    assert url == "https://billing.stripe.com/p/session/test_1"
    assert stripe_api.seen == [("POST", "/v1/billing_portal/sessions", {
        "customer": "cus_1", "return_url": "https://news.example/back",
        "flow_data[type]": "payment_method_update",
        "flow_data[after_completion][type]": "redirect",
        "flow_data[after_completion][redirect][return_url]": "https://news.example/done"})]


def test_deleting_a_customer_stripe_no_longer_has_is_fine(stripe_api):
    """A customer deleted answers True; one Stripe does not know (deleted before) False."""
    assert payments.delete_customer("cus_1") is True
    assert payments.delete_customer("cus_gone") is False
    assert [(m, p) for m, p, _ in stripe_api.seen] == [("DELETE", "/v1/customers/cus_1"),
                                                       ("DELETE", "/v1/customers/cus_gone")]

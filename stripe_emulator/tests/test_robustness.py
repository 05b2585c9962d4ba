"""Client mistakes never cause a 500, and concurrent calls stay consistent."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from .helpers import monthly_params, one_off_params


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("POST", "/v1/checkout/sessions", {"line_items": "abc", "mode": "payment"}),
        ("POST", "/v1/checkout/sessions", {"line_items[0]": "x", "mode": "payment"}),
        ("POST", "/v1/checkout/sessions", {"line_items[x][quantity]": "1", "mode": "payment"}),
        ("POST", "/v1/checkout/sessions", {"mode": "payment", "expand": "customer"}),
        ("POST", "/v1/checkout/sessions", {"mode[]": "payment"}),
        ("POST", "/v1/checkout/sessions", {"metadata": "x"}),
        ("POST", "/v1/checkout/sessions", {"line_items[0][price_data]": "", "mode": "payment"}),
        ("POST", "/v1/checkout/sessions", {"expires_at": "99999999999999999999999"}),
        ("GET", "/v1/events?limit=abc", None),
        ("GET", "/v1/events?created[between]=1", None),
        ("GET", "/v1/events?created=soon", None),
        ("GET", "/v1/events?starting_after=evt_nope", None),
        ("GET", "/v1/events?starting_after=a&ending_before=b", None),
        ("GET", "/v1/customers?expand[]=data.nothing", None),
        ("GET", "/v1/subscriptions?status=sleeping", None),
        ("POST", "/v1/refunds", {"amount": "-5", "charge": "ch_x"}),
        ("POST", "/v1/subscriptions/sub_missing", {"cancel_at_period_end": "true"}),
        ("DELETE", "/v1/subscriptions/sub_missing", None),
        ("POST", "/v1/billing_portal/sessions", {}),
        ("POST", "/v1/billing_portal/sessions", {"customer": "cus_x", "flow_data[type]": "x"}),
        ("POST", "/v1/subscriptions/sub_missing", {"pause_collection[behavior]": "void"}),
        ("POST", "/v1/subscriptions/sub_missing", {"pause_collection": "soon"}),
        ("POST", "/v1/subscriptions/sub_missing", {"items[0][id]": "si_x", "items[0]": "x"}),
        ("POST", "/v1/subscriptions/sub_x", {"items[0][price_data][recurring]": "month"}),
        ("POST", "/v1/customers/cus_missing", {"name": "x"}),
        ("POST", "/v1/customers/cus_x", {"invoice_settings": "pm_x"}),
        ("DELETE", "/v1/customers/cus_missing", None),
        ("GET", "/v1/payment_methods/pm_missing", None),
        ("GET", "/v1/setup_intents/seti_missing", None),
        ("GET", "/v1/customers/cus_missing/payment_methods", None),
        ("POST", "/v1/checkout/sessions", {"mode": "setup"}),
        ("POST", "/v1/checkout/sessions", {"mode": "setup", "currency": "usd", "line_items": "x"}),
        ("PUT", "/v1/customers", None),
    ],
)
def test_client_mistakes_are_4xx_stripe_errors(api, method, path, data):
    """Garbage in any shape gets a Stripe error object with a 4xx status."""
    response = api(method, path, data=data)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_hosted_pages_for_unknown_ids_are_404_pages(emulator):
    """Unknown sessions on the hosted pages are HTML 404s, not crashes."""
    import requests

    for path in ("/c/pay/cs_test_nope", "/p/session/bps_nope"):
        response = requests.get(emulator.url + path, timeout=5)
        assert response.status_code == 404
        assert "text/html" in response.headers["Content-Type"]


def test_concurrent_payments_of_one_session_charge_once(client, control):
    """Eight simultaneous pay calls: one completes, the others see it complete."""
    session = client.v1.checkout.sessions.create(params=one_off_params())

    def attempt(_):
        response = control("POST", f"/checkout/{session.id}/pay", data={"card": "4242424242424242"})
        return response.json()["status"]

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(8)))
    assert statuses.count("complete") == 1
    assert statuses.count("already_complete") == 7
    assert len(client.v1.charges.list().data) == 1


def test_concurrent_sessions_all_complete(client, control):
    """Many checkouts at once produce one subscription and invoice each."""
    sessions = [client.v1.checkout.sessions.create(params=monthly_params()) for _ in range(10)]

    def attempt(session):
        return control(
            "POST", f"/checkout/{session.id}/pay", data={"card": "4242424242424242"}
        ).json()["status"]

    with ThreadPoolExecutor(10) as pool:
        assert set(pool.map(attempt, sessions)) == {"complete"}
    assert len(client.v1.subscriptions.list(params={"limit": 100}).data) == 10
    assert len(client.v1.invoices.list(params={"limit": 100}).data) == 10

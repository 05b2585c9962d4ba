"""Shared constants and request builders for the emulator tests."""

WEBHOOK_SECRET = "whsec_emulator_tests"
SUCCESS_URL = "https://news.example/thanks?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://news.example/contribute"


def price_data(amount=1000, currency="usd", interval=None, name="Support our journalism"):
    data = {"currency": currency, "unit_amount": amount, "product_data": {"name": name}}
    if interval:
        data["recurring"] = {"interval": interval}
    return data


def one_off_params(amount=1000, currency="usd", **extra):
    return {
        "mode": "payment",
        "submit_type": "donate",
        "line_items": [{"price_data": price_data(amount, currency), "quantity": 1}],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "metadata": {"story": "council-budget", "variant": "b"},
        "payment_intent_data": {"metadata": {"story": "council-budget", "variant": "b"}},
        **extra,
    }


def monthly_params(amount=500, currency="usd", interval="month", **extra):
    return {
        "mode": "subscription",
        "line_items": [{"price_data": price_data(amount, currency, interval), "quantity": 1}],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "metadata": {"story": "river-report"},
        "subscription_data": {"metadata": {"story": "river-report", "variant": "a"}},
        **extra,
    }


def conforming(api, method, path, **kwargs):
    """Call the emulator through the raw `api` fixture; the answer must fit Stripe's
    OpenAPI description (no violations). Returns the response."""
    from .conformance import violations

    response = api(method, path, **kwargs)
    found = violations(method, path, response.status_code, response.json())
    assert found == [], found
    return response

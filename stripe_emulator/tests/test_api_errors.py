"""Authentication, Stripe's error objects and idempotency, through the official SDK."""

import pytest
import stripe

from .helpers import monthly_params, one_off_params, price_data


@pytest.mark.parametrize("key", ["sk_live_123", "pk_test_123", "nonsense"])
def test_only_test_secret_keys_are_accepted(emulator, key):
    """Live, publishable or made-up keys get a 401 (AuthenticationError)."""
    client = stripe.StripeClient(key, base_addresses={"api": emulator.url})
    with pytest.raises(stripe.AuthenticationError) as caught:
        client.v1.customers.list()
    assert caught.value.http_status == 401


def test_restricted_test_keys_are_accepted(emulator):
    """rk_test_ keys work like sk_test_ keys."""
    client = stripe.StripeClient("rk_test_abc", base_addresses={"api": emulator.url})
    assert client.v1.customers.list().data == []


def test_missing_key_is_a_stripe_shaped_401(api, emulator):
    """Without Authorization the body is still Stripe's error object."""
    import requests

    response = requests.get(f"{emulator.url}/v1/customers", timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "API key" in response.json()["error"]["message"]


def test_unknown_parameter_names_the_param(client):
    """Any parameter outside the schema is refused with parameter_unknown."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params={**one_off_params(), "colour": "blue"})
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "colour"


def test_payment_method_types_outside_the_emulators_are_refused(client):
    """card and sepa_debit are served; another type names the param, not a 500."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(
            params={**one_off_params(), "payment_method_types": ["card", "ideal"]}
        )
    assert caught.value.param == "payment_method_types[1]"


def test_nested_unknown_parameter_has_its_full_path(client):
    """Unknown keys deep inside line_items are named with their full bracket path."""
    params = one_off_params()
    params["line_items"][0]["price_data"]["product_data"]["colour"] = "red"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=params)
    assert caught.value.param == "line_items[0][price_data][product_data][colour]"


@pytest.mark.parametrize(
    "currency, amount, ok",
    [
        ("usd", 49, False),
        ("usd", 50, True),
        ("eur", 49, False),
        ("eur", 50, True),
        ("gbp", 29, False),
        ("gbp", 30, True),
        ("cad", 49, False),
        ("cad", 50, True),
        ("aud", 49, False),
        ("aud", 50, True),
    ],
)
def test_minimum_charge_per_currency(client, currency, amount, ok):
    """Stripe's documented minimums: 0.50 usd/eur/cad/aud, 0.30 gbp."""
    params = one_off_params(amount=amount, currency=currency)
    if ok:
        assert client.v1.checkout.sessions.create(params=params).amount_total == amount
        return
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=params)
    assert caught.value.code == "amount_too_small"
    assert caught.value.param == "line_items[0][price_data][unit_amount]"


def test_subscription_minimum_also_applies(client):
    """A recurring gift below the minimum is refused as well."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=monthly_params(amount=10))
    assert caught.value.code == "amount_too_small"


@pytest.mark.parametrize(
    "mutate, param",
    [
        (
            lambda p: p["line_items"][0]["price_data"].update(unit_amount="ten"),
            "line_items[0][price_data][unit_amount]",
        ),
        (
            lambda p: p["line_items"][0]["price_data"].update(unit_amount="10.5"),
            "line_items[0][price_data][unit_amount]",
        ),
        (lambda p: p.update(mode="foo"), "mode"),
        (
            lambda p: p["line_items"][0]["price_data"].update(recurring={"interval": "fortnight"}),
            "line_items[0][price_data][recurring][interval]",
        ),
        (lambda p: p.update(submit_type="give"), "submit_type"),
        (lambda p: p["line_items"][0].update(quantity="0"), "line_items[0][quantity]"),
        (lambda p: p["line_items"][0].pop("quantity"), "line_items[0][quantity]"),
        (lambda p: p.pop("mode"), "mode"),
        (lambda p: p.update(success_url="not a url"), "success_url"),
        (lambda p: p.update(customer_email="nobody"), "customer_email"),
        (lambda p: p.update(customer="cus_missing"), "customer"),
        (lambda p: p.update(metadata={"story": {"nested": "x"}}), "metadata[story]"),
        (
            lambda p: p["line_items"][0]["price_data"].update(currency="xyz"),
            "line_items[0][price_data][currency]",
        ),
        (lambda p: p.update(subscription_data={"metadata": {"a": "b"}}), "subscription_data"),
        (lambda p: p.update(expires_at=1), "expires_at"),
    ],
)
def test_bad_values_are_400_with_param(client, mutate, param):
    """Wrong types, enum values and missing fields are 400s naming the param."""
    params = one_off_params()
    mutate(params)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=params)
    assert caught.value.http_status in (400, 404)
    assert caught.value.param == param


@pytest.mark.parametrize("interval", ["day", "week", "month", "year"])
def test_every_stripe_interval_is_accepted(client, interval):
    """week (and day) are valid Stripe intervals, not only month and year."""
    session = client.v1.checkout.sessions.create(params=monthly_params(interval=interval))
    assert session.mode == "subscription"


def test_recurring_price_in_payment_mode_is_refused(client):
    """A recurring price needs subscription mode, as on Stripe."""
    params = one_off_params()
    params["line_items"][0]["price_data"] = price_data(interval="month")
    with pytest.raises(stripe.InvalidRequestError, match="recurring price"):
        client.v1.checkout.sessions.create(params=params)


def test_missing_object_is_404_resource_missing(client):
    """Unknown ids answer 404 resource_missing, for every resource."""
    calls = [
        lambda: client.v1.checkout.sessions.retrieve("cs_test_missing"),
        lambda: client.v1.customers.retrieve("cus_missing"),
        lambda: client.v1.payment_intents.retrieve("pi_missing"),
        lambda: client.v1.charges.retrieve("ch_missing"),
        lambda: client.v1.refunds.retrieve("re_missing"),
        lambda: client.v1.subscriptions.retrieve("sub_missing"),
        lambda: client.v1.invoices.retrieve("in_missing"),
        lambda: client.v1.events.retrieve("evt_missing"),
    ]
    for call in calls:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            call()
        assert caught.value.http_status == 404
        assert caught.value.code == "resource_missing"


def test_error_object_has_stripe_fields(api):
    """The JSON error carries type, code, message, param and doc_url."""
    response = api("POST", "/v1/checkout/sessions", data={"mode": "payment", "bogus": "1"})
    error = response.json()["error"]
    assert response.status_code == 400
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "parameter_unknown"
    assert error["param"] == "bogus"
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/parameter-unknown"
    assert response.headers["Request-Id"].startswith("req_")


def test_unknown_route_and_wrong_content_type(api):
    """Unknown URLs and JSON bodies are Stripe-shaped client errors, not 500s."""
    response = api("GET", "/v1/nothing_here")
    assert response.status_code == 404
    assert "Unrecognized request URL" in response.json()["error"]["message"]
    response = api("POST", "/v1/customers", json={"email": "a@b.co"})
    assert response.status_code == 400
    assert "Content-Type" in response.json()["error"]["message"]


def test_idempotency_key_replays_the_same_response(client):
    """Same key + same body: the first response again, no second object."""
    options = {"idempotency_key": "gift-1"}
    first = client.v1.checkout.sessions.create(params=one_off_params(), options=options)
    again = client.v1.checkout.sessions.create(params=one_off_params(), options=options)
    assert again.id == first.id
    assert len(client.v1.checkout.sessions.list().data) == 1


def test_idempotency_key_with_other_params_is_refused(client):
    """Same key + different body: 400 idempotency_error."""
    options = {"idempotency_key": "gift-2"}
    client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.customers.create(params={"email": "b@example.com"}, options=options)
    assert caught.value.http_status == 400
    assert caught.value.error.type == "idempotency_error"


def test_replayed_response_is_marked(api):
    """A replay says so in Idempotent-Replayed, with the same body."""
    headers = {"Idempotency-Key": "cust-3"}
    first = api("POST", "/v1/customers", data={"email": "c@example.com"}, headers=headers)
    second = api("POST", "/v1/customers", data={"email": "c@example.com"}, headers=headers)
    assert second.json() == first.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_failed_validation_is_not_remembered(api):
    """A request refused before running does not burn its idempotency key."""
    headers = {"Idempotency-Key": "cust-4"}
    bad = api("POST", "/v1/customers", data={"email": "d@example.com", "x": "1"}, headers=headers)
    assert bad.status_code == 400
    good = api("POST", "/v1/customers", data={"email": "d@example.com"}, headers=headers)
    assert good.status_code == 200


def _error(response, status):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    return error


@pytest.mark.parametrize(
    "method, path, data, status, code, param, message",
    [
        # Wrong type: Stripe's "Invalid integer: <value>".
        ("GET", "/v1/customers", {"limit": "abc"}, 400, "parameter_invalid_integer", "limit",
         "Invalid integer: abc"),
        ("GET", "/v1/charges", {"created[gte]": "yesterday"}, 400, "parameter_invalid_integer",
         "created[gte]", "Invalid integer: yesterday"),
        # Out of range: the same code, the bound in the message.
        ("GET", "/v1/customers", {"limit": "0"}, 400, "parameter_invalid_integer", "limit",
         "This value must be greater than or equal to 1."),
        ("GET", "/v1/events", {"limit": "101"}, 400, "parameter_invalid_integer", "limit",
         "This value must be less than or equal to 100."),
        ("POST", "/v1/refunds", {"charge": "ch_x", "amount": "0"}, 400,
         "parameter_invalid_integer", "amount", "This value must be greater than or equal to 1."),
        # Unknown and missing.
        ("GET", "/v1/subscriptions", {"colour": "red"}, 400, "parameter_unknown", "colour",
         "Received unknown parameter: colour"),
        ("POST", "/v1/billing_portal/sessions", {}, 400, "parameter_missing", "customer",
         "Missing required param: customer."),
        ("POST", "/v1/customers", {"name": ""}, 400, "parameter_invalid_empty", "name", None),
        # Unknown ids: 404 for the URL's object (param "id"), 400 for a parameter's.
        ("GET", "/v1/customers/cus_missing", {}, 404, "resource_missing", "id",
         "No such customer: 'cus_missing'"),
        ("GET", "/v1/charges/ch_missing/refunds", {}, 404, "resource_missing", "id",
         "No such charge: 'ch_missing'"),
        ("POST", "/v1/refunds", {"charge": "ch_missing"}, 400, "resource_missing", "charge",
         "No such charge: 'ch_missing'"),
        ("GET", "/v1/customers", {"starting_after": "cus_missing"}, 400, "resource_missing",
         "starting_after", "No such customer: 'cus_missing'"),
        ("POST", "/v1/billing_portal/sessions", {"customer": "cus_missing"}, 400,
         "resource_missing", "customer", "No such customer: 'cus_missing'"),
    ],
)
def test_bad_input_gets_stripes_error(api, method, path, data, status, code, param, message):
    """Each refusal as Stripe's API reference and error codes give it: status, type, code,
    param, message and the code's doc_url."""
    sent = {"data": data} if method == "POST" else {"params": data}
    error = _error(api(method, path, **sent), status)
    assert (error["code"], error["param"]) == (code, param)
    assert error["doc_url"].endswith("/error-codes/" + code.replace("_", "-"))
    if message:
        assert error["message"] == message


def test_a_price_below_the_minimum_is_amount_too_small(api):
    form = {"mode": "payment", "success_url": "https://news.example/ok",
            "line_items[0][price_data][currency]": "usd",
            "line_items[0][price_data][unit_amount]": "abc",
            "line_items[0][price_data][product_data][name]": "Gift",
            "line_items[0][quantity]": "1"}
    error = _error(api("POST", "/v1/checkout/sessions", data=form), 400)
    assert (error["code"], error["param"], error["message"]) == (
        "parameter_invalid_integer", "line_items[0][price_data][unit_amount]",
        "Invalid integer: abc")
    form["line_items[0][price_data][unit_amount]"] = "49"
    error = _error(api("POST", "/v1/checkout/sessions", data=form), 400)
    assert (error["code"], error["param"]) == (
        "amount_too_small", "line_items[0][price_data][unit_amount]")


def test_a_cancelled_subscription_takes_only_metadata_and_cancellation_details(
    api, client, subscribe
):
    sub = subscribe()
    client.v1.subscriptions.cancel(sub.id)
    refused = _error(api("POST", f"/v1/subscriptions/{sub.id}",
                         data={"cancel_at_period_end": "true"}), 400)
    assert refused["code"] == "invalid_canceled_subscription_fields"
    assert refused["message"] == (
        "A canceled subscription can only update its cancellation_details and metadata.")
    kept = api("POST", f"/v1/subscriptions/{sub.id}", data={"metadata[note]": "gone"})
    assert kept.status_code == 200 and kept.json()["metadata"]["note"] == "gone"


def test_a_key_with_no_name_is_ignored(api):
    """`=x` names nothing (Rack, which Stripe's form parsing follows, drops it)."""
    answer = api("POST", "/v1/customers", data="=x&email=a%40example.com",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200 and answer.json()["email"] == "a@example.com"


@pytest.mark.parametrize("field, value", [
    ("days", "nan"), ("days", "inf"), ("days", "1e9"), ("seconds", "99999999999999999999"),
    ("to", "99999999999999999999"), ("days", "-1"),
])
def test_the_clock_refuses_impossible_moves(control, field, value):
    """NaN, infinity or centuries ahead: a 400 naming the field, and the clock stays."""
    before = control("GET", "/clock").json()["offset"]
    answer = control("POST", "/clock/advance", data={field: value})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == field
    assert control("GET", "/clock").json()["offset"] == before

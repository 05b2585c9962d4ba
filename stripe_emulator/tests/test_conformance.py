"""The emulator answers in the shapes of the pinned Stripe API (its OpenAPI description).

conftest.py checks every answer and event of every test with conformance.py; here
the checker is shown to catch planted violations (so it cannot pass by seeing
nothing), and one walk drives every `/v1` route and every event type the
emulator has, so that each is checked at least once.
"""

import copy

import pytest

from .conformance import (
    event_violations,
    implemented_event_types,
    implemented_operations,
    violations,
)
from .conftest import RECORDER
from .helpers import monthly_params, one_off_params

DECLINED = "4000000000000002"
RENEWALS_FAIL = "4000000000000341"


def _get(api, path, status=200):
    response = api("GET", path)
    assert response.status_code == status, response.text
    return response.json()


def _post(api, path, status=200, **data):
    response = api("POST", path, data=data)
    assert response.status_code == status, response.text
    return response.json()


# --- the checker finds what is wrong ---------------------------------------------------


@pytest.fixture
def bodies(api, paid_one_off, subscribe):
    sub = subscribe()
    return {
        "customer": _get(api, f"/v1/customers/{sub.customer}"),
        "subscription": _get(api, f"/v1/subscriptions/{sub.id}?expand[]=latest_invoice"),
        "session": _get(api, f"/v1/checkout/sessions/{paid_one_off.id}?expand[]=payment_intent"),
        "event": _get(api, "/v1/events?type=customer.subscription.created")["data"][0],
    }


def test_real_bodies_have_no_violations(bodies):
    customer, sub = bodies["customer"], bodies["subscription"]
    assert violations("GET", f"/v1/customers/{customer['id']}", 200, customer) == []
    assert violations("GET", f"/v1/subscriptions/{sub['id']}", 200, sub) == []
    assert event_violations(bodies["event"]) == []


@pytest.mark.parametrize(
    "plant, expected",
    [
        (lambda c: c.pop("email"), "$.email: missing required field"),
        (lambda c: c.update(nickname="x"), "$.nickname: unknown field"),
        (lambda c: c.update(balance="10"), '$.balance: expected number, got string "10"'),
        (lambda c: c.update(livemode=0), "$.livemode: expected boolean, got number 0"),
        (lambda c: c.update(created=None), "$.created: null, not allowed"),
        (lambda c: c["invoice_settings"].pop("footer"), "$.invoice_settings.footer: missing"),
        (lambda c: c["metadata"].update(n=1), "$.metadata.n: expected string"),
        (lambda c: c.update(object="client"), "$.object: 'client' is not one of ['customer']"),
    ],
)
def test_planted_violations_in_a_customer(bodies, plant, expected):
    customer = copy.deepcopy(bodies["customer"])
    plant(customer)
    found = violations("GET", f"/v1/customers/{customer['id']}", 200, customer)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_planted_violations_deep_inside(bodies):
    sub = copy.deepcopy(bodies["subscription"])
    sub["status"] = "paused_forever"  # an open enum (`string & {}` in the SDK): allowed
    sub["latest_invoice"]["status"] = "lost"
    sub["latest_invoice"]["lines"]["data"][0]["amount"] = 5.0  # a number is a number
    sub["latest_invoice"]["lines"]["data"][0]["period"]["end"] = "soon"
    sub["items"]["data"][0]["price"]["recurring"].pop("interval")
    found = violations("GET", f"/v1/subscriptions/{sub['id']}", 200, sub)
    assert sorted(found) == [
        "$.items.data[0].price.recurring.interval: missing required field",
        '$.latest_invoice.lines.data[0].period.end: expected number, got string "soon"',
        "$.latest_invoice.status: 'lost' is not one of ['draft', 'open', 'paid', "
        "'uncollectible', 'void']",
    ]


def test_an_expanded_field_must_be_the_object_it_names(bodies):
    session = copy.deepcopy(bodies["session"])
    session["payment_intent"]["object"] = "charge"
    found = violations("GET", f"/v1/checkout/sessions/{session['id']}", 200, session)
    assert found and all(line.startswith("$.payment_intent") for line in found), found
    session["payment_intent"] = 42
    found = violations("GET", f"/v1/checkout/sessions/{session['id']}", 200, session)
    assert found == [
        "$.payment_intent: 42 matches none of ['PaymentIntents:PaymentIntent', 'string']"
    ]


def test_planted_violations_in_an_event(bodies):
    evt = copy.deepcopy(bodies["event"])
    evt["type"] = "customer.subscription.exploded"
    evt["data"]["object"].pop("currency")
    evt["data"]["previous_attributes"] = {"status": "incomplete", "mood": "happy"}
    evt.pop("request")
    found = sorted(event_violations(evt))
    assert found[:3] == [
        "$.data.object.currency: missing required field",
        "$.data.previous_attributes.mood: unknown field (not a field of the object)",
        "$.request: missing required field",
    ]
    assert found[3].startswith("$.type: 'customer.subscription.exploded' is not one of the ")
    assert len(found) == 4


def test_routes_and_errors_are_checked(bodies):
    assert violations("GET", "/v1/customers/cus_1/secrets", 200, {}) == [
        "GET /v1/customers/cus_1/secrets: no such operation in Stripe's API"
    ]
    error = {"error": {"type": "invalid_request_error", "message": "No such customer"}}
    assert violations("GET", "/v1/customers/cus_1", 404, error) == []
    error["error"]["type"] = "not_found"
    error["error"]["hint"] = "x"
    assert sorted(violations("GET", "/v1/customers/cus_1", 404, error)) == [
        "$.error.hint: unknown field",
        "$.error.type: 'not_found' is not one of ['api_error', 'card_error', "
        "'idempotency_error', 'invalid_request_error']",
    ]


# --- every route and event, once ---------------------------------------------------------


def _payments(api, control, pay):
    """A one-off paid, refunded and disputed; a declined try; an expired session."""
    session = _post(
        api, "/v1/checkout/sessions", **_form(one_off_params(customer_creation="always"))
    )
    assert pay(session["id"], DECLINED)["status"] == "failed"
    assert pay(session["id"])["status"] == "complete"
    session = _get(
        api,
        f"/v1/checkout/sessions/{session['id']}?expand[]=line_items"
        "&expand[]=payment_intent.latest_charge&expand[]=customer",
    )
    intent = session["payment_intent"]
    charge = intent["latest_charge"]
    refund = _post(api, "/v1/refunds", payment_intent=intent["id"], amount=100)
    dispute = control("POST", f"/charges/{charge['id']}/dispute").json()
    expired = _post(api, "/v1/checkout/sessions", **_form(one_off_params()))
    _post(api, f"/v1/checkout/sessions/{expired['id']}/expire")
    for path in (
        f"/v1/customers/{session['customer']['id']}",
        "/v1/checkout/sessions",
        f"/v1/checkout/sessions/{session['id']}/line_items",
        "/v1/payment_intents?expand[]=data.customer",
        f"/v1/payment_intents/{intent['id']}",
        "/v1/charges",
        f"/v1/charges/{charge['id']}?expand[]=balance_transaction",
        f"/v1/charges/{charge['id']}/refunds",
        "/v1/refunds",
        f"/v1/refunds/{refund['id']}",
        "/v1/disputes",
        f"/v1/disputes/{dispute['id']}",
        "/v1/balance_transactions",
        f"/v1/balance_transactions/{charge['balance_transaction']}",
        "/v1/prices",
        "/v1/products",
    ):
        _get(api, path)
    line = _get(api, f"/v1/checkout/sessions/{session['id']}/line_items")["data"][0]
    _get(api, f"/v1/prices/{line['price']['id']}?expand[]=product")
    _get(api, f"/v1/products/{line['price']['product']}")


def _sepa_debits(api, control):
    """Euro sessions paid by SEPA Direct Debit, once and monthly; one IBAN that fails."""
    paid = []
    for build, iban in (
        (one_off_params, "AT611904300234573201"),
        (one_off_params, "AT861904300235473202"),
        (monthly_params, "DE62370400440532013001"),
    ):
        session = _post(
            api,
            "/v1/checkout/sessions",
            **_form(build(currency="eur", payment_method_types=["card", "sepa_debit"])),
        )
        answer = control("POST", f"/checkout/{session['id']}/pay", data={"iban": iban})
        assert answer.json()["status"] == "complete", answer.text
        paid.append(session["id"])
    control("POST", "/clock/advance", data={"seconds": "3600"})
    session = _get(api, f"/v1/checkout/sessions/{paid[0]}?expand[]=payment_intent.latest_charge")
    charge = session["payment_intent"]["latest_charge"]
    assert charge["status"] == "succeeded"
    _get(
        api,
        f"/v1/mandates/{charge['payment_method_details']['sepa_debit']['mandate']}"
        "?expand[]=payment_method",
    )
    _get(api, f"/v1/charges/{charge['id']}?expand[]=balance_transaction")
    _get(api, "/v1/payment_methods?type=sepa_debit")


def _subscriptions(api, control, pay):
    """A subscription renewed, changed, paused (void / uncollectible) and cancelled; one whose
    renewal fails and whose invoice is then paid by hand; setup mode, saved and refused."""
    sub = _subscribe(api, pay)
    control("POST", f"/subscriptions/{sub['id']}/advance")
    _post(api, f"/v1/subscriptions/{sub['id']}", **{"metadata[note]": "kept"})
    for behavior in ("void", "mark_uncollectible"):
        _post(api, f"/v1/subscriptions/{sub['id']}", **{"pause_collection[behavior]": behavior})
        control("POST", f"/subscriptions/{sub['id']}/advance")
    _post(api, f"/v1/subscriptions/{sub['id']}", pause_collection="")
    failing = _subscribe(api, pay, RENEWALS_FAIL)
    invoice = control("POST", f"/subscriptions/{failing['id']}/advance").json()["invoice"]
    _post(api, f"/v1/invoices/{invoice['id']}/pay", status=402)
    for card in ("4242424242424242", DECLINED):
        setup = _post(
            api,
            "/v1/checkout/sessions",
            mode="setup",
            customer=sub["customer"],
            currency="usd",
            success_url="https://news.example/manage",
        )
        pay(setup["id"], card)
    setup_intents = _get(api, "/v1/setup_intents")["data"]
    _get(api, f"/v1/setup_intents/{setup_intents[0]['id']}?expand[]=payment_method")
    invoices = _get(api, "/v1/invoices?expand[]=data.payments")["data"]
    _get(api, f"/v1/invoices/{invoices[0]['id']}?expand[]=payments")
    _get(api, f"/v1/invoices/{invoices[0]['id']}/lines")
    payments = _get(api, f"/v1/invoice_payments?invoice={invoices[0]['id']}")["data"]
    _get(api, f"/v1/invoice_payments/{payments[0]['id']}")
    _get(api, "/v1/subscriptions?status=all")
    _get(
        api,
        f"/v1/subscriptions/{sub['id']}?expand[]=latest_invoice&expand[]=customer"
        "&expand[]=default_payment_method",
    )
    _post(
        api,
        "/v1/billing_portal/sessions",
        customer=sub["customer"],
        return_url="https://news.example/account",
        **{"flow_data[type]": "payment_method_update"},
    )
    api("DELETE", f"/v1/subscriptions/{sub['id']}")
    return sub["customer"]


def _subscribe(api, pay, card="4242424242424242"):
    session = _post(api, "/v1/checkout/sessions", **_form(monthly_params()))
    assert pay(session["id"], card)["status"] == "complete"
    session = _get(api, f"/v1/checkout/sessions/{session['id']}")
    return _get(api, f"/v1/subscriptions/{session['subscription']}")


def _customers(api, customer_id):
    """Customers made, changed, listed and deleted; cards, events."""
    made = _post(api, "/v1/customers", email="reader@example.com", name="A Reader")
    _post(api, f"/v1/customers/{made['id']}", description="kept")
    _get(api, "/v1/customers?email=reader@example.com")
    _get(api, f"/v1/customers/{customer_id}?expand[]=invoice_settings.default_payment_method")
    methods = _get(api, f"/v1/customers/{customer_id}/payment_methods")["data"]
    _get(api, f"/v1/payment_methods?customer={customer_id}")
    _get(api, f"/v1/payment_methods/{methods[0]['id']}")
    response = api("DELETE", f"/v1/customers/{customer_id}")
    assert response.status_code == 200, response.text
    _get(api, f"/v1/customers/{customer_id}")  # a deleted customer
    events = _get(api, "/v1/events?limit=100")["data"]
    _get(api, f"/v1/events/{events[0]['id']}")


def _test_clocks(api, pay):
    """A test clock with a customer and a monthly subscription, advanced past a renewal,
    listed and deleted (with its customer)."""
    test_clock = _post(api, "/v1/test_helpers/test_clocks", frozen_time=1767225600, name="walk")
    customer = _post(api, "/v1/customers", email="clock@example.com",
                     test_clock=test_clock["id"])
    session = _post(api, "/v1/checkout/sessions",
                    **_form(monthly_params(customer=customer["id"])))
    assert pay(session["id"])["status"] == "complete"
    _post(api, f"/v1/test_helpers/test_clocks/{test_clock['id']}/advance",
          frozen_time=1767225600 + 32 * 24 * 3600)
    _get(api, "/v1/test_helpers/test_clocks")
    _get(api, f"/v1/customers/{customer['id']}?expand[]=test_clock")
    response = api("DELETE", f"/v1/test_helpers/test_clocks/{test_clock['id']}")
    assert response.status_code == 200, response.text
    _get(api, f"/v1/test_helpers/test_clocks/{test_clock['id']}", status=404)


def _catalog_and_intents(api):
    """Products and prices made and changed; PaymentIntents made, confirmed (paid, 3D Secure,
    declined) and cancelled; a card attached; a subscription made through the API; portal
    configurations."""
    product = _post(api, "/v1/products", name="Membership")
    _post(api, f"/v1/products/{product['id']}", description="Monthly support")
    price = _post(
        api,
        "/v1/prices",
        product=product["id"],
        currency="usd",
        unit_amount=500,
        **{"recurring[interval]": "month"},
    )
    _post(api, f"/v1/prices/{price['id']}", **{"metadata[tier]": "basic"})
    customer = _post(api, "/v1/customers", email="member@example.com")
    card = _post(api, "/v1/payment_methods/pm_card_visa/attach", customer=customer["id"])
    _post(
        api,
        f"/v1/customers/{customer['id']}",
        **{"invoice_settings[default_payment_method]": card["id"]},
    )
    _post(api, "/v1/subscriptions", customer=customer["id"], **{"items[0][price]": price["id"]})
    intent = _post(api, "/v1/payment_intents", amount=1000, currency="usd", customer=customer["id"])
    _post(api, f"/v1/payment_intents/{intent['id']}/confirm", payment_method="pm_card_visa")
    _post(
        api,
        "/v1/payment_intents",
        amount=1000,
        currency="usd",
        confirm="true",
        payment_method="pm_card_threeDSecure2Required",
    )
    declined = _post(api, "/v1/payment_intents", amount=1000, currency="usd")
    _post(
        api,
        f"/v1/payment_intents/{declined['id']}/confirm",
        status=402,
        payment_method="pm_card_chargeDeclined",
    )
    _post(api, f"/v1/payment_intents/{declined['id']}/cancel")
    config = _post(
        api, "/v1/billing_portal/configurations", **{"features[invoice_history][enabled]": "true"}
    )
    _get(api, "/v1/billing_portal/configurations")
    _get(api, f"/v1/billing_portal/configurations/{config['id']}")


def _sepa(api, control):
    """Two SEPA Direct Debits by Checkout: one settles, one fails when the clock passes."""
    control("POST", "/config", data={"async_delay": "3600"})
    for iban in ("AT611904300234573201", "AT861904300235473202"):
        params = one_off_params(currency="eur", payment_method_types=["card", "sepa_debit"])
        session = _post(api, "/v1/checkout/sessions", **_form(params))
        paid = control(
            "POST",
            f"/checkout/{session['id']}/pay",
            data={"iban": iban, "name": "Jenny Rosen", "email": "jenny@example.com"},
        )
        assert paid.json()["status"] == "complete", paid.text
    intent = _get(
        api, f"/v1/checkout/sessions/{session['id']}?expand[]=payment_intent.latest_charge"
    )["payment_intent"]
    mandate = intent["latest_charge"]["payment_method_details"]["sepa_debit"]["mandate"]
    _get(api, f"/v1/mandates/{mandate}")
    control("POST", "/clock/advance", data={"seconds": "3700"})


def _errors(api):
    _get(api, "/v1/customers/cus_missing", status=404)
    _get(api, "/v1/customers?limit=1000", status=400)
    _post(api, "/v1/refunds", status=400)


def _form(params, prefix=""):
    """Nested params as Stripe's form keys (`a[b][0][c]`)."""
    pairs = {}
    items = params.items() if isinstance(params, dict) else enumerate(params)
    for key, value in items:
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, (dict, list)):
            pairs.update(_form(value, name))
        else:
            pairs[name] = value
    return pairs


def test_every_route_and_event_is_exercised_and_conforms(emulator, api, control, pay):
    kept_delay = emulator.state.async_delay
    try:
        _sepa(api, control)
    finally:
        emulator.state.async_delay = kept_delay
    _catalog_and_intents(api)
    _payments(api, control, pay)
    _customers(api, _subscriptions(api, control, pay))
    _errors(api)
    _sepa_debits(api, control)
    _test_clocks(api, pay)
    print(
        "\noperations:",
        *sorted(RECORDER.operations(), key=lambda op: (op[1], op[0])),
        "\nevents:",
        *sorted(RECORDER.event_types()),
        sep="\n  ",
    )
    assert RECORDER.problems() == []
    unexercised = implemented_operations(emulator.app) - RECORDER.operations()
    assert not unexercised, f"routes no test here calls: {sorted(unexercised)}"
    unsent = implemented_event_types() - RECORDER.event_types()
    assert not unsent, f"event types never sent here: {sorted(unsent)}"

"""Bad input, at random, on every route the emulator serves: never a 5xx, and every 4xx of the
API and control routes is Stripe's error object.

The routes come from the app's url_map, so a new endpoint is fuzzed without touching this
file. Path ids are real ids of objects that exist (a paid subscription, a refunded and a
disputed charge, a portal session, ...) or random text; parameters mix the endpoint's own
params (from its schema, nested and with arrays, with values of the right type or not) with
random names, `a[b]` and `a[]` forms.
"""

import os
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from stripe_emulator import create_emulator
from stripe_emulator.params import Arr, Int, Metadata, Obj, OrEmpty, Range, Str

from .helpers import monthly_params, one_off_params

AUTH = {"Authorization": "Bearer sk_test_fuzz"}
# Made-up ids have a random tail of 14 or more letters and digits (ids.py).
_ID = re.compile(r"^[a-z]+(?:_[a-z]+)*_[A-Za-z0-9]{14,}$")
# Form fields read by the control routes and hosted pages (they have no schema).
FORM_NAMES = [
    "card", "email", "authenticate", "to", "seconds", "days", "reason", "webhook_secret",
    "events", "retry_days", "after_retries", "enabled", "timeout", "action", "card_number",
    "expiry", "cvc", "view",
]
# Never sent: a random `forward_to` would make the emulator post webhooks to wherever it
# points, and this test must not send traffic off the machine.
NEVER_SENT = ("forward_to",)
# Examples per route and method; EMULATOR_FUZZ_EXAMPLES=500 for a longer hunt.
EXAMPLES = int(os.environ.get("EMULATOR_FUZZ_EXAMPLES", "30"))
ERROR_TYPES = {"invalid_request_error", "card_error", "api_error", "idempotency_error"}

_app = create_emulator(webhook_secret="whsec_fuzz")
ROUTES = sorted(
    (rule.rule, method)
    for rule in _app.url_map.iter_rules()
    if rule.endpoint != "static"
    for method in rule.methods - {"HEAD", "OPTIONS"}
)


@pytest.fixture(scope="module")
def app():
    yield _app
    _app.extensions["stripe_emulator"].close()


def _flatten(field, path, depth=0):
    """(param path, field) for every parameter a schema takes, nested ones included."""
    if depth > 4:
        return
    if isinstance(field, OrEmpty):
        field = field.field
    yield path, field
    if isinstance(field, Obj):
        for key, sub in field.fields.items():
            yield from _flatten(sub, f"{path}[{key}]" if path else key, depth + 1)
    elif isinstance(field, Arr):
        yield from _flatten(field.item, f"{path}[0]", depth + 1)
        yield f"{path}[]", field.item
    elif isinstance(field, Metadata):
        yield f"{path}[story]", Str()
    elif isinstance(field, Range):
        yield f"{path}[gte]", Int()


def _endpoint(app, rule, method):
    for candidate in app.url_map.iter_rules():
        if candidate.rule == rule and method in candidate.methods:
            return candidate.endpoint
    raise LookupError(rule)


def _value_for(field, ids):
    """A value of the field's type, most of the time, else anything."""
    anything = st.one_of(
        st.text(max_size=30),
        st.sampled_from(["", "true", "false", "0", "-1", "1.5", "nan", "inf", "1e309", "null",
                         "9" * 30, "[]", "{}"]),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.sampled_from(ids),
    )
    if isinstance(field, Int):
        typed = st.integers(min_value=-5, max_value=10**9).map(str)
    elif isinstance(field, Str) and field.choices:
        typed = st.sampled_from(sorted(field.choices))
    elif isinstance(field, Str):
        typed = st.one_of(st.sampled_from(ids), st.sampled_from(["usd", "eur", "month"]))
    else:
        typed = st.sampled_from(["true", "false", "4242424242424242", "12/34", "123", "1"])
    return st.one_of(typed, typed, anything)


def _random_name():
    base = st.text(min_size=0, max_size=10)
    return st.one_of(
        base,
        st.builds(lambda a, b: f"{a}[{b}]", base, base),
        base.map(lambda a: f"{a}[]"),
        st.builds(lambda a, b: f"{a}[0][{b}]", base, base),
    )


@st.composite
def _pairs(draw, known, ids):
    pairs = []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        if known and draw(st.integers(0, 4)):
            name, field = draw(st.sampled_from(known))
        else:
            name, field = draw(_random_name()), None
        if not name.startswith(NEVER_SENT):
            pairs.append((name, draw(_value_for(field, ids))))
    return pairs


def _path(rule, ids, draw):
    def fill(match):
        value = draw(st.one_of(st.sampled_from(ids), st.text(min_size=1, max_size=20)))
        return quote(value, safe="")

    return re.sub(r"<(?:[^:<>]+:)?[^<>]+>", fill, rule)


def _seed(client):
    """Objects of every kind, reached through the API as a client would make them."""
    post = lambda path, **data: client.post(path, data=data, headers=AUTH).get_json()  # noqa: E731
    customer = post("/v1/customers", email="fuzz@example.com")
    for params in (monthly_params(), one_off_params()):
        session = post("/v1/checkout/sessions", **_form(params))
        client.post(f"/_emulator/checkout/{session['id']}/pay", data={"card": "4242424242424242"})
    post("/v1/checkout/sessions", **_form(one_off_params()))  # left open
    charge = client.get("/v1/charges", headers=AUTH).get_json()["data"][0]
    post("/v1/refunds", charge=charge["id"], amount="100")
    client.post(f"/_emulator/charges/{charge['id']}/dispute")
    post("/v1/billing_portal/sessions", customer=customer["id"])


def _form(params, prefix=""):
    """Nested params as Stripe's form keys."""
    flat = {}
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            flat.update(_form(value, name))
        elif isinstance(value, list):
            flat.update(_form(dict(enumerate(value)), name))
        else:
            flat[name] = str(value)
    return flat


def _ids(client):
    """Every id the list endpoints show (new object types are picked up by themselves)."""
    found = set()

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and _ID.match(value):
            found.add(value)

    for rule, method in ROUTES:
        if method == "GET" and rule.startswith("/v1") and "<" not in rule:
            walk(client.get(rule, headers=AUTH).get_json())
    return sorted(found)


@pytest.fixture(scope="module")
def seeded(app):
    client = app.test_client()
    _seed(client)
    ids = _ids(client)
    assert len(ids) > 15, ids
    return client, ids


def _check_answer(response, path, method, pairs):
    where = f"{method} {path} {pairs!r}"
    assert response.status_code < 500, f"{where} -> {response.status_code} {response.data[:500]!r}"
    if response.status_code < 400 or not path.startswith(("/v1", "/_emulator")):
        return
    body = response.get_json(silent=True) or {}
    if path.startswith("/_emulator/checkout/") and "status" in body:
        # A refused payment is an outcome the control route reports in its own shape (README).
        assert {"session", "status", "redirect_url", "error"} <= body.keys(), where
        return
    error = body.get("error")
    assert isinstance(error, dict), f"{where}: not Stripe's error object {response.data[:300]!r}"
    assert error.get("type") in ERROR_TYPES, f"{where}: {error}"
    assert isinstance(error["message"], str) and error["message"], where
    code = error.get("code")
    if code and (code.startswith("parameter_") or code == "resource_missing"):
        assert error.get("param"), f"{where}: {code} names no param"


def _reseed_if_reset(client):
    # A fuzzed POST /_emulator/reset empties the store: bring real objects back.
    if not client.get("/v1/customers", headers=AUTH).get_json()["data"]:
        _seed(client)


@pytest.mark.parametrize("rule,method", ROUTES, ids=[f"{m} {r}" for r, m in ROUTES])
def test_random_input_never_breaks_a_route(app, seeded, rule, method):
    client, ids = seeded
    known = _params_of_endpoint(app, rule, method)

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(data=st.data())
    def fuzz(data):
        _reseed_if_reset(client)
        path = _path(rule, ids, data.draw)
        pairs = data.draw(_pairs(known, ids))
        form = MultiDict(pairs)
        sent = {"data": form} if method == "POST" else {"query_string": form}
        response = client.open(path, method=method, headers=AUTH, **sent)
        _check_answer(response, path, method, pairs)

    fuzz()


def _params_of_endpoint(app, rule, method):
    view = app.view_functions[_endpoint(app, rule, method)]
    schema = getattr(view, "params_schema", None)
    if schema is None:
        return [(name, None) for name in FORM_NAMES]
    return [item for item in _flatten(Obj({**schema, "expand": Arr(Str())}), "") if item[0]]


def _valid_requests(client):
    """Requests that succeed as they are, one per kind of write: mutating them reaches past
    the params check into what each call does."""
    def first(path):
        return client.get(path, headers=AUTH).get_json()["data"][0]["id"]

    methods = client.get("/v1/payment_methods", headers=AUTH).get_json()["data"]
    method = next(m for m in methods if m["customer"])
    customer, sub = method["customer"], first("/v1/subscriptions")
    charges = client.get("/v1/charges", headers=AUTH).get_json()["data"]
    charge = next(c["id"] for c in charges if not c["disputed"])
    open_session = client.post(
        "/v1/checkout/sessions", data=_form(one_off_params()), headers=AUTH
    ).get_json()["id"]
    return [
        ("POST", "/v1/checkout/sessions", _form(one_off_params())),
        ("POST", "/v1/checkout/sessions", _form(monthly_params(customer=customer))),
        ("POST", "/v1/checkout/sessions", {"mode": "setup", "currency": "usd",
                                           "customer": customer,
                                           "success_url": "https://news.example/ok"}),
        ("POST", "/v1/customers", {"email": "a@example.com", "metadata[k]": "v"}),
        ("POST", f"/v1/customers/{customer}", {
            "name": "N", "invoice_settings[default_payment_method]": method["id"]}),
        ("POST", "/v1/refunds", {"charge": charge, "amount": "100"}),
        ("POST", f"/v1/subscriptions/{sub}", {
            "items[0][id]": client.get(f"/v1/subscriptions/{sub}", headers=AUTH)
            .get_json()["items"]["data"][0]["id"],
            "items[0][price_data][currency]": "usd", "items[0][price_data][unit_amount]": "900",
            "items[0][price_data][product]": first("/v1/products"),
            "items[0][price_data][recurring][interval]": "year",
            "proration_behavior": "none"}),
        ("POST", f"/v1/subscriptions/{sub}", {"pause_collection[behavior]": "void"}),
        ("POST", "/v1/billing_portal/sessions", {
            "customer": customer, "flow_data[type]": "payment_method_update",
            "flow_data[after_completion][type]": "redirect",
            "flow_data[after_completion][redirect][return_url]": "https://news.example/done"}),
        ("POST", f"/c/pay/{open_session}", {"email": "r@example.com",
                                            "card_number": "4242424242424242",
                                            "expiry": "12/34", "cvc": "123"}),
        ("POST", f"/_emulator/checkout/{open_session}/pay", {"card": "4000002500003155"}),
    ]


@st.composite
def _mutated(draw, form, ids):
    """The form with one or two fields dropped, changed or added."""
    pairs = list(form.items())
    for _ in range(draw(st.integers(1, 2))):
        action = draw(st.sampled_from(["drop", "change", "add"]))
        if action != "add" and pairs:
            index = draw(st.integers(0, len(pairs) - 1))
            name, _ = pairs.pop(index)
            if action == "change":
                pairs.insert(index, (name, draw(_value_for(None, ids))))
        else:
            pairs.append((draw(_random_name()), draw(_value_for(None, ids))))
    return pairs


def test_valid_requests_with_a_field_changed_never_break():
    app = create_emulator(webhook_secret="whsec_fuzz")
    client = app.test_client()
    _seed(client)
    ids = _ids(client)
    requests_ = _valid_requests(client)
    for method, path, form in requests_[:-2]:  # the last two pay the session
        answer = client.open(path, method=method, headers=AUTH, data=form)
        assert answer.status_code == 200, (path, form, answer.get_json())

    @settings(max_examples=EXAMPLES * 10, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def fuzz(data):
        _reseed_if_reset(client)
        method, path, form = data.draw(st.sampled_from(requests_))
        pairs = [p for p in data.draw(_mutated(form, ids)) if not p[0].startswith(NEVER_SENT)]
        response = client.open(path, method=method, headers=AUTH, data=MultiDict(pairs))
        _check_answer(response, path, method, pairs)

    fuzz()

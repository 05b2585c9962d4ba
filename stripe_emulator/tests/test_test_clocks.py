"""Stripe's test clocks: the API, customers and subscriptions living at a clock's time,
advancing one clock without moving the emulator's own, and a clock kept in a state file."""

import json

import pytest
import stripe

from .conformance import event_violations
from .conftest import WebhookSink
from .helpers import monthly_params
from .test_state_file import EmulatorProcess

JAN_1 = 1767225600  # 2026-01-01T00:00:00Z
FEB_1 = 1769904000
MAR_1 = 1772323200
DAY = 24 * 3600


def _clock_on_customer(client, frozen_time=JAN_1):
    test_clock = client.v1.test_helpers.test_clocks.create(
        params={"frozen_time": frozen_time, "name": "January"}
    )
    customer = client.v1.customers.create(
        params={"email": "clock@example.com", "test_clock": test_clock.id}
    )
    return test_clock, customer


def _subscribe(client, pay_session, customer_id, card="4242424242424242"):
    session = client.v1.checkout.sessions.create(params=monthly_params(customer=customer_id))
    assert pay_session(session.id, card)["status"] == "complete"
    return client.v1.subscriptions.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).subscription
    )


def test_create_retrieve_list_shape(client, fixtures3):
    created = client.v1.test_helpers.test_clocks.create(
        params={"frozen_time": JAN_1, "name": "January"}
    )
    assert created.id.startswith("clock_")
    assert (created.frozen_time, created.name, created.status) == (JAN_1, "January", "ready")
    assert created.status_details.to_dict() == {}
    assert created.deletes_after == created.created + 7 * DAY
    assert set(created.to_dict()) == set(fixtures3["test_helpers.test_clock"])
    assert client.v1.test_helpers.test_clocks.retrieve(created.id).to_dict() == created.to_dict()
    second = client.v1.test_helpers.test_clocks.create(params={"frozen_time": FEB_1})
    assert second.name is None
    listed = client.v1.test_helpers.test_clocks.list()
    assert [c.id for c in listed.data] == [second.id, created.id]
    assert listed.url == "/v1/test_helpers/test_clocks"


def test_customer_and_subscription_live_at_the_clock_time(client, pay, control):
    test_clock, customer = _clock_on_customer(client)
    assert (customer.test_clock, customer.created) == (test_clock.id, JAN_1)
    sub = _subscribe(client, pay, customer.id)
    item = sub["items"].data[0]
    assert (sub.test_clock, sub.status, sub.start_date) == (test_clock.id, "active", JAN_1)
    assert (item.current_period_start, item.current_period_end) == (JAN_1, FEB_1)
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert (invoice.test_clock, invoice.created) == (test_clock.id, JAN_1)
    expanded = client.v1.customers.retrieve(customer.id, params={"expand": ["test_clock"]})
    assert expanded.test_clock.id == test_clock.id
    assert [c.id for c in client.v1.customers.list(params={"test_clock": test_clock.id})] == [
        customer.id
    ]
    # The emulator's own clock does not renew a subscription on a test clock.
    answer = control("POST", "/clock/advance", data={"to": FEB_1 + 400 * DAY}).json()
    assert answer["renewals"] == 0
    assert client.v1.subscriptions.retrieve(sub.id).latest_invoice == sub.latest_invoice


def test_advance_renews_in_time_order_with_events(client, pay, control, webhooks):
    test_clock, customer = _clock_on_customer(client)
    sub = _subscribe(client, pay, customer.id)
    other_session = _paid_session(client, pay)
    other = client.v1.subscriptions.retrieve(
        client.v1.checkout.sessions.retrieve(other_session).subscription
    )
    global_now = control("GET", "/clock").json()["now"]
    answer = client.v1.test_helpers.test_clocks.advance(
        test_clock.id, params={"frozen_time": MAR_1}
    )
    # Stripe answers while the clock advances: the old time, the target in status_details.
    assert (answer.status, answer.frozen_time) == ("advancing", JAN_1)
    assert answer.status_details.to_dict() == {"advancing": {"target_frozen_time": MAR_1}}
    after = client.v1.test_helpers.test_clocks.retrieve(test_clock.id)
    assert (after.status, after.frozen_time) == ("ready", MAR_1)
    assert after.status_details.to_dict() == {}
    cycle = client.v1.invoices.list(params={"subscription": sub.id, "status": "paid"}).data
    assert [i.created for i in cycle] == [MAR_1, FEB_1, JAN_1]
    renewed = client.v1.subscriptions.retrieve(sub.id)["items"].data[0]
    assert renewed.current_period_start == MAR_1
    # The subscription on no test clock, and the emulator's clock, did not move.
    assert client.v1.subscriptions.retrieve(other.id).latest_invoice == other.latest_invoice
    assert control("GET", "/clock").json()["now"] - global_now < 60
    webhooks.wait_for("test_helpers.test_clock.ready")
    types = webhooks.types()
    start, end = types.index("test_helpers.test_clock.advancing"), types.index(
        "test_helpers.test_clock.ready")
    assert types[start:end].count("invoice.paid") == 2
    ready = json.loads(webhooks.received[end][2])
    assert ready["data"]["object"]["status"] == "ready"


def _paid_session(client, pay):
    session = client.v1.checkout.sessions.create(params=monthly_params())
    assert pay(session.id)["status"] == "complete"
    return session.id


def test_failed_renewal_retries_on_the_clock(client, pay):
    test_clock, customer = _clock_on_customer(client)
    # Succeeds on the first (on-session) payment, declines off-session renewals.
    sub = _subscribe(client, pay, customer.id, card="4000000000000341")
    client.v1.test_helpers.test_clocks.advance(test_clock.id, params={"frozen_time": FEB_1 + 1})
    invoice = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    assert invoice.next_payment_attempt == FEB_1 + 3 * DAY
    client.v1.test_helpers.test_clocks.advance(
        test_clock.id, params={"frozen_time": FEB_1 + 4 * DAY}
    )
    assert client.v1.invoices.retrieve(invoice.id).attempt_count == 2


def test_changes_through_the_api_happen_at_the_clock_time(client, pay):
    test_clock, customer = _clock_on_customer(client)
    sub = _subscribe(client, pay, customer.id)
    client.v1.test_helpers.test_clocks.advance(test_clock.id, params={"frozen_time": JAN_1 + DAY})
    updated = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert (updated.canceled_at, updated.cancel_at) == (JAN_1 + DAY, FEB_1)
    canceled = client.v1.subscriptions.cancel(sub.id)
    assert (canceled.status, canceled.ended_at) == ("canceled", JAN_1 + DAY)


def test_control_advance_of_a_clock_subscription_bills_at_its_time(client, pay, control):
    test_clock, customer = _clock_on_customer(client)
    sub = _subscribe(client, pay, customer.id)
    answer = control("POST", f"/subscriptions/{sub.id}/advance").json()
    assert (answer["paid"], answer["invoice"]["created"]) == (True, JAN_1)
    assert client.v1.test_helpers.test_clocks.retrieve(test_clock.id).frozen_time == JAN_1


def test_advance_limits_and_errors(api, client, pay):
    test_clock, customer = _clock_on_customer(client)
    path = f"/v1/test_helpers/test_clocks/{test_clock.id}/advance"
    same = api("POST", path, data={"frozen_time": JAN_1}).json()["error"]
    assert (same["type"], same["param"]) == ("invalid_request_error", "frozen_time")
    back = api("POST", path, data={"frozen_time": JAN_1 - 1})
    assert back.status_code == 400 and back.json()["error"]["param"] == "frozen_time"
    # No subscription: at most two years ahead.
    assert api("POST", path, data={"frozen_time": JAN_1 + 731 * DAY}).status_code == 400
    _subscribe(client, pay, customer.id)
    # A monthly subscription: at most two months ahead.
    too_far = api("POST", path, data={"frozen_time": MAR_1 + 1})
    assert too_far.status_code == 400 and too_far.json()["error"]["param"] == "frozen_time"
    assert api("POST", path, data={"frozen_time": MAR_1}).status_code == 200
    missing = api("POST", path, data={}).json()["error"]
    assert (missing["code"], missing["param"]) == ("parameter_missing", "frozen_time")
    wrong = api("POST", path, data={"frozen_time": "soon"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "parameter_invalid_integer"
    assert client.v1.test_helpers.test_clocks.retrieve(test_clock.id).frozen_time == MAR_1


@pytest.mark.parametrize(
    ("method", "path", "data", "param"),
    [
        ("GET", "/v1/test_helpers/test_clocks/clock_nope", None, "id"),
        ("POST", "/v1/test_helpers/test_clocks/clock_nope/advance", {"frozen_time": JAN_1}, "id"),
        ("DELETE", "/v1/test_helpers/test_clocks/clock_nope", None, "id"),
        ("POST", "/v1/customers", {"test_clock": "clock_nope"}, "test_clock"),
    ],
)
def test_unknown_clock_is_resource_missing(api, method, path, data, param):
    """The object in the URL is a 404; one named by a parameter, a 400 (as Stripe answers)."""
    response = api(method, path, data=data)
    assert response.status_code == (404 if param == "id" else 400)
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("resource_missing", param)
    assert "clock_nope" in error["message"]


def test_create_needs_frozen_time(api):
    error = api("POST", "/v1/test_helpers/test_clocks", data={"name": "x"}).json()["error"]
    assert (error["code"], error["param"]) == ("parameter_missing", "frozen_time")
    wrong = api("POST", "/v1/test_helpers/test_clocks", data={"frozen_time": "x"})
    assert wrong.status_code == 400
    assert (wrong.json()["error"]["code"], wrong.json()["error"]["param"]) == (
        "parameter_invalid_integer", "frozen_time")
    assert api("GET", "/v1/test_helpers/test_clocks").json()["data"] == []


def test_delete_removes_its_customers_and_subscriptions(client, pay, webhooks):
    test_clock, customer = _clock_on_customer(client)
    sub = _subscribe(client, pay, customer.id)
    kept = client.v1.customers.create(params={"email": "other@example.com"})
    deleted = client.v1.test_helpers.test_clocks.delete(test_clock.id)
    assert deleted.to_dict() == {"id": test_clock.id, "object": "test_helpers.test_clock",
                                 "deleted": True}
    assert client.v1.customers.retrieve(customer.id).to_dict().get("deleted") is True
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    assert client.v1.customers.retrieve(kept.id).email == "other@example.com"
    assert test_clock.id not in [c.id for c in client.v1.test_helpers.test_clocks.list()]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.test_helpers.test_clocks.advance(test_clock.id, params={"frozen_time": FEB_1})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.test_helpers.test_clocks.retrieve(test_clock.id)
    webhooks.wait_for("test_helpers.test_clock.deleted")
    assert webhooks.types()[-1] == "test_helpers.test_clock.deleted"


def test_clock_survives_a_restart_and_renews(tmp_path):
    """The issue's "done when": a clock, its customer and monthly subscription are kept in
    the state file; after a restart, advancing the clock renews and the webhook arrives."""
    sink = WebhookSink()
    process = EmulatorProcess(tmp_path / "state.sqlite3", tmp_path / "emulator.log")
    try:
        first = process.start(forward_to=sink.url)
        client = first.client()
        test_clock, customer = _clock_on_customer(client)
        sub = _subscribe(client, _process_pay(first), customer.id)
        assert sub.test_clock == test_clock.id
        first.stop()

        second = process.start(forward_to=sink.url)
        client = second.client()
        kept = client.v1.test_helpers.test_clocks.retrieve(test_clock.id)
        assert (kept.frozen_time, kept.status) == (JAN_1, "ready")
        client.v1.test_helpers.test_clocks.advance(
            test_clock.id, params={"frozen_time": FEB_1 + DAY}
        )
        renewed = client.v1.subscriptions.retrieve(sub.id)
        latest = client.v1.invoices.retrieve(renewed.latest_invoice)
        assert (latest.billing_reason, latest.status, latest.created) == (
            "subscription_cycle", "paid", FEB_1)
        sink.wait_for("test_helpers.test_clock.ready", timeout=10)
        events = [json.loads(body) for _, _, body, _ in sink.received]
        paid = [event for event in events if event["type"] == "invoice.paid"]
        assert latest.id in [event["data"]["object"]["id"] for event in paid]
        # This emulator is a subprocess, which conftest does not record: check here.
        assert [problem for event in events for problem in event_violations(event)] == []
    finally:
        process.stop()
        sink.close()


def _process_pay(process):
    def pay_session(session_id, card):
        return process.control("POST", f"/checkout/{session_id}/pay", data={"card": card}).json()

    return pay_session


def test_subscription_made_through_the_api_is_on_the_clock(client):
    test_clock, customer = _clock_on_customer(client)
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    price = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 500, "recurring": {"interval": "month"},
                "product_data": {"name": "Membership"}}
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    assert (sub.test_clock, sub.start_date, sub.status) == (test_clock.id, JAN_1, "active")
    client.v1.test_helpers.test_clocks.advance(test_clock.id, params={"frozen_time": FEB_1})
    renewal = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert (renewal.billing_reason, renewal.status, renewal.created) == (
        "subscription_cycle", "paid", FEB_1)

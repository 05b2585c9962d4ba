"""The event list, webhook delivery (retries, order, outage) and the controls."""

import threading
import time

import pytest
import requests
import stripe

from stripe_emulator import run_in_thread
from stripe_emulator.webhooks import signature_header

from .conftest import WebhookSink
from .helpers import WEBHOOK_SECRET, monthly_params, one_off_params


def test_events_list_newest_first_with_filters(client, pay):
    """Events list newest first and filter by type, types[] and created ranges."""
    session = client.v1.checkout.sessions.create(params=monthly_params())
    pay(session.id)
    events = client.v1.events.list(params={"limit": 100}).data
    assert events[0].type == "checkout.session.completed"
    assert events[-1].type == "customer.created"
    assert all(e.api_version == "2026-10-28.endive" and not e.livemode for e in events)
    assert [e.created for e in events] == sorted((e.created for e in events), reverse=True)
    invoices = client.v1.events.list(params={"type": "invoice.*"}).data
    assert [e.type for e in invoices] == ["invoice.paid", "invoice.finalized", "invoice.created"]
    picked = client.v1.events.list(params={"types": ["invoice.paid", "customer.created"]}).data
    assert {e.type for e in picked} == {"invoice.paid", "customer.created"}
    now = events[0].created
    assert len(client.v1.events.list(params={"created": {"gte": now - 60}}).data) == 10
    assert client.v1.events.list(params={"created": {"gt": now + 1}}).data == []
    assert client.v1.events.list(params={"created": {"lt": now - 60}}).data == []
    assert len(client.v1.events.list(params={"created": {"lte": now}}).data) == 10


def test_events_pagination_and_retrieve(client, pay):
    """Pagination with has_more; retrieve by id returns the same snapshot."""
    session = client.v1.checkout.sessions.create(params=monthly_params())
    pay(session.id)
    first = client.v1.events.list(params={"limit": 4})
    assert len(first.data) == 4 and first.has_more
    second = client.v1.events.list(params={"limit": 4, "starting_after": first.data[-1].id})
    third = client.v1.events.list(params={"limit": 4, "starting_after": second.data[-1].id})
    assert len(third.data) == 2 and not third.has_more
    back = client.v1.events.list(params={"limit": 4, "ending_before": second.data[0].id})
    assert [e.id for e in back.data] == [e.id for e in first.data]
    event = client.v1.events.retrieve(first.data[0].id)
    assert event.type == first.data[0].type and event.data.object.id == session.id
    assert event.request.id is None  # caused by the hosted page, not an API call


def test_event_objects_are_snapshots(client, subscribe, control):
    """Each event keeps the object as it was then, not as it is now."""
    sub = subscribe()
    client.v1.subscriptions.update(sub.id, params={"metadata": {"story": "changed"}})
    created = client.v1.events.list(params={"type": "customer.subscription.created"}).data[0]
    assert created.data.object.status == "incomplete"
    assert created.data.object.metadata["story"] == "river-report"
    updated = client.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert updated.data.object.metadata["story"] == "changed"
    assert updated.request.id.startswith("req_")


def test_failing_endpoint_is_retried(client, pay, webhooks, control):
    """Non-2xx answers are retried with backoff until the endpoint accepts."""
    failures = {"left": 2}

    def flaky(event):
        if event["type"] == "checkout.session.completed" and failures["left"]:
            failures["left"] -= 1
            return 500
        return 200

    webhooks.answer = flaky
    session = client.v1.checkout.sessions.create(params=one_off_params())
    pay(session.id)
    assert control("POST", "/deliveries/wait", data={"timeout": "5"}).json()["done"]
    assert webhooks.types().count("checkout.session.completed") == 3
    status = {e["type"]: e["delivery"] for e in control("GET", "/events").json()["data"]}
    assert status["checkout.session.completed"]["attempts"] == 3
    assert status["checkout.session.completed"]["delivered"] is True
    assert status["charge.succeeded"]["attempts"] == 1
    event = client.v1.events.list(params={"type": "checkout.session.completed"}).data[0]
    assert event.pending_webhooks == 0


def test_a_failing_event_does_not_hold_up_later_ones(client, pay, webhooks, control):
    """An event that always fails is given up on; events after it arrive first."""
    webhooks.answer = lambda event: 500 if event["type"] == "charge.succeeded" else 200
    session = client.v1.checkout.sessions.create(params=one_off_params())
    pay(session.id)
    control("POST", "/deliveries/wait", data={"timeout": "5"})
    arrivals = webhooks.types()
    assert arrivals.count("charge.succeeded") == 4  # max_attempts in conftest
    last_failure = len(arrivals) - 1 - arrivals[::-1].index("charge.succeeded")
    assert arrivals.index("checkout.session.completed") < last_failure
    status = {e["type"]: e["delivery"] for e in control("GET", "/events").json()["data"]}
    assert status["charge.succeeded"]["status"] == "failed"
    assert status["charge.succeeded"]["last_status_code"] == 500
    assert status["checkout.session.completed"]["delivered"] is True
    assert client.v1.events.list(params={"delivery_success": False}).data[0].type == (
        "charge.succeeded"
    )


def test_unreachable_endpoint_is_given_up_on(client, control, emulator):
    """Connection errors count as failures and are retried, then marked failed."""
    closed = WebhookSink()
    closed.close()  # nothing listens at this URL any more
    control("POST", "/config", data={"forward_to": closed.url})
    client.v1.customers.create(params={"email": "x@example.com"})
    assert emulator.wait_for_deliveries(5)
    delivery = control("GET", "/events").json()["data"][0]["delivery"]
    assert delivery["status"] == "failed" and delivery["attempts"] == 4
    assert delivery["last_status_code"] is None and delivery["last_error"]


def test_delivery_outage_keeps_events_listable(client, pay, webhooks, control):
    """With delivery disabled, events exist (for `stripe sync`) but are never sent."""
    assert control("POST", "/delivery", data={"enabled": "0"}).json()["delivery_enabled"] is False
    session = client.v1.checkout.sessions.create(params=one_off_params())
    pay(session.id)
    control("POST", "/deliveries/wait")
    assert webhooks.received == []
    listed = client.v1.events.list(params={"type": "checkout.session.completed"}).data
    assert listed[0].data.object.id == session.id and listed[0].pending_webhooks == 0
    assert {e["delivery"]["status"] for e in control("GET", "/events").json()["data"]} == {
        "skipped"
    }
    control("POST", "/delivery", data={"enabled": "1"})
    client.v1.checkout.sessions.expire(
        client.v1.checkout.sessions.create(params=one_off_params()).id
    )
    webhooks.wait_for("checkout.session.expired")
    assert webhooks.types() == ["checkout.session.expired"]


def test_config_changes_target_and_secret(client, webhooks, control):
    """POST /_emulator/config switches where and how events are signed."""
    answer = control("POST", "/config", data={"webhook_secret": "whsec_new"}).json()
    assert answer == {
        "forward_to": webhooks.url,
        "webhook_secret": "whsec_new",
        "delivery_enabled": True,
        "events": [],
        "retry_days": [3, 5, 7],
        "after_retries": "cancel",
        "async_delay": 3,
    }
    client.v1.customers.create(params={"email": "x@example.com"})
    webhooks.wait_for("customer.created")
    _, _, body, signature = webhooks.received[0]
    assert stripe.Webhook.construct_event(body, signature, "whsec_new").type == "customer.created"
    control("POST", "/config", data={"webhook_secret": WEBHOOK_SECRET})


def test_only_the_event_types_asked_for_are_sent(client, webhooks, control):
    """`events` (like `stripe listen --events`): other types are created, listed and marked
    not wanted, never sent; a malformed list is refused; a reset sends every type again."""
    refused = control("POST", "/config", data={"events": "customer.created,<script>"})
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "events"
    answer = control("POST", "/config", data={"events": "customer.updated"}).json()
    assert answer["events"] == ["customer.updated"]
    customer = client.v1.customers.create(params={"email": "x@example.com"})
    client.v1.customers.update(customer.id, params={"name": "X"})
    webhooks.wait_for("customer.updated")
    assert webhooks.types() == ["customer.updated"]
    statuses = {e["type"]: e["delivery"]["status"]
                for e in control("GET", "/events").json()["data"]}
    assert statuses["customer.created"] == "not_wanted"
    control("POST", "/reset")
    assert control("GET", "/config").json()["events"] == []


def test_wait_blocks_until_delivery(client, webhooks, control):
    """deliveries/wait returns only after the slow endpoint has answered."""
    gate = threading.Event()
    webhooks.answer = lambda event: 200 if gate.wait(5) else 500
    client.v1.customers.create(params={"email": "x@example.com"})
    threading.Timer(0.3, gate.set).start()
    started = time.monotonic()
    answer = control("POST", "/deliveries/wait", data={"timeout": "5"}).json()
    assert answer == {"done": True, "pending": 0}
    assert time.monotonic() - started >= 0.25
    assert control("GET", "/events").json()["data"][0]["delivery"]["delivered"] is True


def test_reset_clears_everything(client, pay, control):
    """POST /_emulator/reset empties the emulator."""
    pay(client.v1.checkout.sessions.create(params=one_off_params()).id)
    assert control("POST", "/reset").json() == {"reset": True}
    assert client.v1.checkout.sessions.list().data == []
    assert client.v1.events.list().data == []
    assert control("GET", "/events").json()["data"] == []


def test_control_errors_are_json(control):
    """Unknown ids and bad fields on control routes answer JSON errors."""
    response = control("POST", "/checkout/cs_test_missing/pay", data={"card": "4242424242424242"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"
    assert control("POST", "/subscriptions/sub_missing/advance").status_code == 404
    assert control("POST", "/delivery", data={"enabled": "maybe"}).status_code == 400
    assert control("POST", "/deliveries/wait", data={"timeout": "soon"}).status_code == 400


def test_signature_header_matches_stripes_scheme():
    """t=<unix>,v1=<hex hmac of "t.payload">, accepted by the SDK's verifier."""
    payload = b'{"id": "evt_1", "object": "event", "type": "x", "data": {"object": {}}}'
    header = signature_header(payload, "whsec_abc")
    assert stripe.Webhook.construct_event(payload, header, "whsec_abc").id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            payload, signature_header(payload, "whsec_abc", 1), "whsec_abc"
        )


def test_run_in_thread_standalone():
    """run_in_thread gives a working emulator with its own state and a secret."""
    handle = run_in_thread(forward_to=None)
    try:
        assert handle.webhook_secret.startswith("whsec_")
        response = requests.get(
            f"{handle.url}/v1/customers", timeout=5, headers={"Authorization": "Bearer sk_test_x"}
        )
        assert response.json()["object"] == "list"
    finally:
        handle.shutdown()


def test_in_process_delivery_target(client, emulator, control):
    """forward_to may be a callable, e.g. posting into an app's Flask test client."""
    seen = []

    def target(payload, headers):
        event = stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], WEBHOOK_SECRET)
        seen.append(event.type)
        return 200 if len(seen) > 1 else 503  # first attempt fails: retried

    emulator.state.forward_to = target
    client.v1.customers.create(params={"email": "x@example.com"})
    assert emulator.wait_for_deliveries(5)
    assert seen == ["customer.created", "customer.created"]
    delivery = control("GET", "/events").json()["data"][0]["delivery"]
    assert delivery["delivered"] and delivery["attempts"] == 2
    assert delivery["url"].startswith("<callable")

"""POST /v1/subscriptions/:id for "manage my support": a new amount or frequency, pausing
and resuming collection, a new card; what the next renewal bills; the events and errors."""

import time

import pytest
import stripe

from .helpers import WEBHOOK_SECRET


def _events(webhooks, event_type):
    return [
        stripe.Webhook.construct_event(body, sig, WEBHOOK_SECRET)
        for kind, _, body, sig in webhooks.received
        if kind == event_type
    ]


def _new_price(sub, amount, interval="month", **extra):
    item = sub["items"].data[0]
    data = {"currency": "usd", "unit_amount": amount, "product": item.price.product,
            "recurring": {"interval": interval}, **extra}
    return {"items": [{"id": item.id, "price_data": data}], "proration_behavior": "none"}


# What a renewal sends while collection is paused: no payment, no invoice.paid.
HELD_EVENTS = {
    "void": ["invoice.created", "invoice.finalized", "invoice.voided"],
    "keep_as_draft": ["invoice.created"],
    "mark_uncollectible": [
        "invoice.created", "invoice.finalized", "invoice.marked_uncollectible"],
}


def _charges(client):
    return client.v1.charges.list(params={"limit": 100}).data


def test_new_amount_applies_from_the_next_renewal(client, subscribe, control, webhooks):
    """Same interval: the item's price changes now, nothing is billed, advance bills it."""
    sub = subscribe()
    period_end = sub["items"].data[0].current_period_end
    webhooks.wait_for("checkout.session.completed")
    updated = client.v1.subscriptions.update(sub.id, params=_new_price(sub, 1200))
    item, before = updated["items"].data[0], sub["items"].data[0]
    assert (item.id, item.price.unit_amount, item.plan.amount) == (before.id, 1200, 1200)
    assert item.price.product == before.price.product and item.price.id != before.price.id
    assert item.current_period_end == period_end and updated.latest_invoice == sub.latest_invoice
    assert len(_charges(client)) == 1

    webhooks.wait_for("customer.subscription.updated")
    event = _events(webhooks, "customer.subscription.updated")[-1]
    assert event.data.object["items"].data[0].price.unit_amount == 1200
    assert event.data.previous_attributes["items"].data[0].price.unit_amount == 500
    assert event.request.id is not None

    answer = control("POST", f"/subscriptions/{sub.id}/advance").json()
    assert answer["paid"] and answer["invoice"]["amount_paid"] == 1200
    line = answer["invoice"]["lines"]["data"][0]
    assert line["pricing"]["price_details"]["price"] == item.price.id


def test_new_interval_starts_a_period_and_bills_now(client, subscribe, webhooks):
    """Monthly to annual: a new period from now, billed at once (subscription_update)."""
    sub = subscribe()
    webhooks.wait_for("checkout.session.completed")
    start = len(webhooks.received)
    updated = client.v1.subscriptions.update(sub.id, params=_new_price(sub, 6000, "year"))
    item = updated["items"].data[0]
    assert item.current_period_end - item.current_period_start >= 365 * 24 * 3600
    assert updated.billing_cycle_anchor == item.current_period_start >= sub.created
    invoice = client.v1.invoices.retrieve(updated.latest_invoice, params={"expand": ["payments"]})
    assert (invoice.billing_reason, invoice.status, invoice.amount_paid) == (
        "subscription_update", "paid", 6000)
    assert invoice.payments.data[0].status == "paid"
    webhooks.wait_for("invoice.paid")
    assert [kind for kind, *_ in webhooks.received[start:]] == [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
    ]
    previous = _events(webhooks, "customer.subscription.updated")[-1].data.previous_attributes
    assert previous.latest_invoice == sub.latest_invoice
    assert previous.billing_cycle_anchor == sub.billing_cycle_anchor


def test_new_interval_with_a_failing_card_leaves_it_past_due(client, subscribe):
    """The immediate invoice of a new interval fails like a renewal: past_due, still changed."""
    sub = subscribe(card="4000000000000341")
    updated = client.v1.subscriptions.update(sub.id, params=_new_price(sub, 6000, "year"))
    assert updated.status == "past_due"
    assert updated["items"].data[0].price.recurring.interval == "year"
    assert client.v1.invoices.retrieve(updated.latest_invoice).status == "open"


@pytest.mark.parametrize("behavior", ["void", "keep_as_draft", "mark_uncollectible"])
def test_paused_collection_bills_nothing(client, subscribe, control, webhooks, behavior):
    """While collection is paused a renewal charges nothing and the status stays active."""
    sub = subscribe()
    paused = client.v1.subscriptions.update(
        sub.id, params={"pause_collection": {"behavior": behavior}}
    )
    assert paused.pause_collection.behavior == behavior and paused.status == "active"
    assert paused.pause_collection.resumes_at is None
    answer = control("POST", f"/subscriptions/{sub.id}/advance").json()
    invoice = answer["invoice"]
    assert answer["status"] == "active" and not answer["paid"]
    expected = {"void": "void", "keep_as_draft": "draft", "mark_uncollectible": "uncollectible"}
    assert (invoice["status"], invoice["amount_paid"], invoice["attempt_count"]) == (
        expected[behavior], 0, 0)
    assert invoice["auto_advance"] is False
    if behavior == "mark_uncollectible":
        assert invoice["status_details"] == {"uncollectible": {"reason": "subscription_paused"}}
    assert len(_charges(client)) == 1  # the first payment's
    last = {"void": "invoice.voided", "keep_as_draft": "invoice.created",
            "mark_uncollectible": "invoice.marked_uncollectible"}[behavior]
    webhooks.wait_for(last)
    renewal = webhooks.types()[-len(HELD_EVENTS[behavior]) - 2:]
    assert renewal == [
        "customer.subscription.updated",  # pause_collection set
        "customer.subscription.updated",  # the new period
        *HELD_EVENTS[behavior],
    ]


def test_pause_and_resume_events(client, subscribe, webhooks, control):
    """Pausing and resuming send customer.subscription.updated only, with previous values."""
    sub = subscribe()
    webhooks.wait_for("checkout.session.completed")
    client.v1.subscriptions.update(sub.id, params={"pause_collection": {"behavior": "void"}})
    resumed = client.v1.subscriptions.update(sub.id, params={"pause_collection": ""})
    assert resumed.pause_collection is None
    webhooks.wait_for("customer.subscription.updated")
    pause, resume = _events(webhooks, "customer.subscription.updated")[-2:]
    assert pause.data.previous_attributes.pause_collection is None
    assert pause.data.object.pause_collection.behavior == "void"
    assert resume.data.previous_attributes.pause_collection.behavior == "void"
    assert resume.data.object.pause_collection is None
    assert "customer.subscription.paused" not in webhooks.types()
    assert "customer.subscription.resumed" not in webhooks.types()
    answer = control("POST", f"/subscriptions/{sub.id}/advance").json()
    assert answer["paid"] and answer["invoice"]["amount_paid"] == 500


def test_resumes_at_ends_the_pause_at_a_renewal_after_it(client, subscribe, control):
    """A renewal on or after resumes_at clears the pause and is charged; one before is not."""
    sub = subscribe()
    period = 24 * 3600 * 27
    far = int(time.time()) + 3 * period
    client.v1.subscriptions.update(
        sub.id, params={"pause_collection": {"behavior": "void", "resumes_at": far}}
    )
    first = control("POST", f"/subscriptions/{sub.id}/advance").json()
    assert not first["paid"] and first["subscription"]["pause_collection"]["resumes_at"] == far
    client.v1.subscriptions.update(
        sub.id,
        params={"pause_collection": {"behavior": "void", "resumes_at": int(time.time()) + 60}},
    )
    second = control("POST", f"/subscriptions/{sub.id}/advance").json()
    assert second["paid"] and second["subscription"]["pause_collection"] is None
    updates = client.v1.events.list(params={"type": "customer.subscription.updated"}).data
    resumed = updates[1].to_dict()["data"]  # before it: the new period's update
    assert resumed["previous_attributes"]["pause_collection"]["resumes_at"] > 0
    assert resumed["object"]["pause_collection"] is None


def test_new_card_for_the_subscription(client, subscribe, pay, control):
    """default_payment_method takes a card of the same customer; renewals charge it."""
    sub = subscribe()
    setup = client.v1.checkout.sessions.create(params={
        "mode": "setup", "customer": sub.customer, "currency": "usd",
        "success_url": "https://news.example/manage"})
    assert pay(setup.id, card="5555555555554444")["status"] == "complete"
    method = client.v1.setup_intents.retrieve(
        client.v1.checkout.sessions.retrieve(setup.id).setup_intent).payment_method
    updated = client.v1.subscriptions.update(sub.id, params={"default_payment_method": method})
    assert updated.default_payment_method == method
    event = client.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert event.data.previous_attributes.default_payment_method == sub.default_payment_method
    invoice = control("POST", f"/subscriptions/{sub.id}/advance").json()["invoice"]
    charge = client.v1.charges.list(params={"limit": 1}).data[0]
    assert charge.payment_method == method and charge.amount == invoice["amount_paid"]
    assert charge.payment_method_details.card.brand == "mastercard"


@pytest.mark.parametrize(
    "params, status, code, param",
    [
        ({"items": [{"price_data": {
            "currency": "usd", "unit_amount": "900", "product": "PRODUCT",
            "recurring": {"interval": "month"}}}], "proration_behavior": "none"},
         400, None, "items[0][id]"),
        ({"items": [{"id": "si_missing", "price": "price_x"}], "proration_behavior": "none"},
         400, "resource_missing", "items[0][id]"),
        ({"items": [{"id": "ITEM", "price_data": {
            "currency": "usd", "unit_amount": "900", "recurring": {"interval": "month"}}}],
          "proration_behavior": "none"},
         400, "parameter_missing", "items[0][price_data][product]"),
        ({"items": [{"id": "ITEM", "price_data": {
            "currency": "usd", "unit_amount": "900", "product_data": {"name": "x"},
            "recurring": {"interval": "month"}}}], "proration_behavior": "none"},
         400, "parameter_unknown", "items[0][price_data][product_data]"),
        ({"items": [{"id": "ITEM", "price_data": {
            "currency": "usd", "unit_amount": "900", "product": "prod_missing",
            "recurring": {"interval": "month"}}}], "proration_behavior": "none"},
         400, "resource_missing", "items[0][price_data][product]"),
        ({"items": [{"id": "ITEM", "price_data": {
            "currency": "eur", "unit_amount": "900", "product": "PRODUCT",
            "recurring": {"interval": "month"}}}], "proration_behavior": "none"},
         400, None, "items[0][price_data][currency]"),
        ({"items": [{"id": "ITEM", "price_data": {
            "currency": "usd", "unit_amount": "900", "product": "PRODUCT",
            "recurring": {"interval": "month"}}}]},
         400, None, "proration_behavior"),
        ({"pause_collection": {"behavior": "nap"}}, 400, None, "pause_collection[behavior]"),
        ({"pause_collection": {"resumes_at": "1"}}, 400, "parameter_missing",
         "pause_collection[behavior]"),
        ({"pause_collection": {"behavior": "void", "resumes_at": "1000"}}, 400, None,
         "pause_collection[resumes_at]"),
        ({"proration_behavior": "sometimes"}, 400, None, "proration_behavior"),
        ({"default_payment_method": "pm_missing"}, 400, "resource_missing",
         "default_payment_method"),
    ],
)
def test_bad_updates_are_refused_and_change_nothing(
    client, subscribe, params, status, code, param
):
    """Each mistake is a Stripe error naming the param; the subscription is unchanged."""
    sub = subscribe()
    item = sub["items"].data[0]
    with pytest.raises(stripe.StripeError) as raised:
        client.v1.subscriptions.update(
            sub.id, params=_fill(params, {"ITEM": item.id, "PRODUCT": item.price.product})
        )
    error = raised.value
    assert error.http_status == status, error.user_message
    assert error.error.param == param
    if code:
        assert error.code == code
    assert client.v1.subscriptions.retrieve(sub.id).to_dict() == sub.to_dict()


def _fill(value, names):
    """`value` with the placeholders ITEM and PRODUCT replaced by real ids."""
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, names) for item in value]
    return names.get(value, value)


def test_another_customers_card_is_refused(client, subscribe, pay):
    """A card attached to someone else cannot become the subscription's default."""
    mine, theirs = subscribe(), subscribe()
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.subscriptions.update(
            mine.id, params={"default_payment_method": theirs.default_payment_method}
        )
    assert raised.value.error.param == "default_payment_method"


def test_unknown_subscription_is_404(client):
    """Updating or canceling a subscription that does not exist is Stripe's 404."""
    for call in (
        lambda: client.v1.subscriptions.update("sub_nope", params={"pause_collection": ""}),
        lambda: client.v1.subscriptions.cancel("sub_nope"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            call()
        assert raised.value.http_status == 404 and raised.value.code == "resource_missing"


def test_canceled_subscription_only_takes_metadata(client, subscribe):
    """After DELETE, a new price or a pause is refused; canceling twice too."""
    sub = subscribe()
    canceled = client.v1.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled" and canceled.ended_at is not None
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.subscriptions.update(sub.id, params={"pause_collection": {"behavior": "void"}})
    assert raised.value.code == "invalid_canceled_subscription_fields"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(sub.id)
    assert client.v1.subscriptions.update(sub.id, params={"metadata": {"why": "moved"}}).metadata

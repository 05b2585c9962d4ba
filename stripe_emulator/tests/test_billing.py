"""Subscriptions, renewals, invoices and the customer portal."""

import re

import pytest
import requests
import stripe

from .helpers import WEBHOOK_SECRET


def _received(webhooks, event_type):
    return [
        stripe.Webhook.construct_event(body, sig, WEBHOOK_SECRET)
        for kind, _, body, sig in webhooks.received
        if kind == event_type
    ]


def test_subscription_read_and_list(client, subscribe):
    """Retrieve and list subscriptions; canceled ones only on request."""
    sub = subscribe()
    assert sub.id.startswith("sub_") and sub.status == "active"
    assert sub.latest_invoice.startswith("in_")
    assert sub["items"].data[0].id.startswith("si_")
    assert [s.id for s in client.v1.subscriptions.list().data] == [sub.id]
    assert [s.id for s in client.v1.subscriptions.list(params={"customer": sub.customer}).data] == [
        sub.id
    ]
    client.v1.subscriptions.cancel(sub.id)
    assert client.v1.subscriptions.list().data == []
    assert [s.id for s in client.v1.subscriptions.list(params={"status": "canceled"}).data] == [
        sub.id
    ]


def test_renewal_pays_next_invoice(client, subscribe, control, webhooks):
    """advance: next period, a paid subscription_cycle invoice, renewal events."""
    sub = subscribe()
    period_end = sub["items"].data[0].current_period_end
    webhooks.wait_for("checkout.session.completed")
    start = len(webhooks.received)
    answer = control("POST", f"/subscriptions/{sub.id}/advance").json()
    assert answer["status"] == "active" and answer["paid"] is True
    renewed = client.v1.subscriptions.retrieve(sub.id)
    item = renewed["items"].data[0]
    assert item.current_period_start == period_end
    assert item.current_period_end > period_end + 27 * 24 * 3600
    invoice = client.v1.invoices.retrieve(renewed.latest_invoice, params={"expand": ["payments"]})
    assert invoice.billing_reason == "subscription_cycle"
    assert (invoice.status, invoice.amount_paid) == ("paid", 500)
    assert invoice.lines.data[0].period.start == period_end
    assert invoice.payments.data[0].status == "paid"

    webhooks.wait_for("invoice.paid")
    renewal_types = [kind for kind, *_ in webhooks.received[start:]]
    assert renewal_types == [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
    ]
    invoices = client.v1.invoices.list(params={"subscription": sub.id}).data
    assert [i.billing_reason for i in invoices] == ["subscription_cycle", "subscription_create"]


def test_renewal_fails_for_0341_card(client, subscribe, control, webhooks):
    """4000...0341 pays at checkout; the renewal fails and the subscription is past_due."""
    sub = subscribe(card="4000000000000341")
    assert sub.status == "active"
    answer = control("POST", f"/subscriptions/{sub.id}/advance").json()
    assert (answer["status"], answer["paid"]) == ("past_due", False)
    invoice = client.v1.invoices.retrieve(answer["invoice"]["id"])
    assert (invoice.status, invoice.amount_paid, invoice.attempt_count) == ("open", 0, 1)
    assert invoice.next_payment_attempt is not None
    webhooks.wait_for("invoice.payment_failed")
    failed = _received(webhooks, "invoice.payment_failed")[0].data.object
    assert failed.billing_reason == "subscription_cycle"
    updates = _received(webhooks, "customer.subscription.updated")
    assert updates[-1].data.object.status == "past_due"
    assert updates[-1].data.previous_attributes.status == "active"
    # Paying the open invoice again with the same card is a card error.
    with pytest.raises(stripe.CardError) as caught:
        client.v1.invoices.pay(invoice.id)
    assert caught.value.http_status == 402 and caught.value.code == "card_declined"


def test_update_cancel_at_period_end_and_metadata(client, subscribe, webhooks):
    """Update emits customer.subscription.updated with previous_attributes."""
    sub = subscribe()
    webhooks.wait_for("checkout.session.completed")
    updated = client.v1.subscriptions.update(
        sub.id, params={"cancel_at_period_end": True, "metadata": {"variant": "", "note": "moving"}}
    )
    assert updated.cancel_at_period_end and updated.canceled_at is not None
    assert updated.cancel_at == updated["items"].data[0].current_period_end
    assert updated.metadata.to_dict() == {"story": "river-report", "note": "moving"}
    webhooks.wait_for("customer.subscription.updated")
    event = _received(webhooks, "customer.subscription.updated")[-1]
    assert event.data.object.cancel_at_period_end is True
    assert event.data.previous_attributes.cancel_at_period_end is False
    assert event.data.previous_attributes.metadata["variant"] == "a"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": "maybe"})
    assert caught.value.param == "cancel_at_period_end"


def test_period_end_cancellation_happens_on_advance(client, subscribe, control):
    """A subscription set to cancel at period end ends when its period is over."""
    sub = subscribe()
    client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    answer = control("POST", f"/subscriptions/{sub.id}/advance").json()
    assert answer["status"] == "canceled" and answer["invoice"] is None
    assert control("POST", f"/subscriptions/{sub.id}/advance").status_code == 409


def test_cancel_now(client, subscribe, webhooks):
    """DELETE cancels at once and emits customer.subscription.deleted."""
    sub = subscribe()
    canceled = client.v1.subscriptions.cancel(
        sub.id, params={"cancellation_details": {"feedback": "too_expensive"}}
    )
    assert canceled.status == "canceled" and canceled.ended_at is not None
    assert canceled.cancellation_details.feedback == "too_expensive"
    webhooks.wait_for("customer.subscription.deleted")
    assert _received(webhooks, "customer.subscription.deleted")[0].data.object.id == sub.id
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(sub.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert caught.value.code == "invalid_canceled_subscription_fields"


def test_invoices_list_filters(client, subscribe):
    """Invoices filter by subscription, customer and status."""
    first, second = subscribe(), subscribe(amount=900)
    by_sub = client.v1.invoices.list(params={"subscription": first.id}).data
    assert [i.id for i in by_sub] == [first.latest_invoice]
    by_customer = client.v1.invoices.list(params={"customer": second.customer}).data
    assert [i.amount_due for i in by_customer] == [900]
    assert len(client.v1.invoices.list(params={"status": "paid"}).data) == 2
    assert (
        client.v1.invoice_payments.list(params={"invoice": first.latest_invoice}).data[0].status
        == "paid"
    )


def test_portal_page_cancel_flow(client, subscribe, webhooks):
    """The portal page lists the gift and cancels it at period end, then now."""
    sub = subscribe(amount=1200, interval="year")
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": sub.customer, "return_url": "https://news.example/account"}
    )
    page = requests.get(portal.url, timeout=10).text
    assert "$12.00" in page and "annual" in page and "active" in page
    assert "Next renewal" in page and 'href="https://news.example/account"' in page
    action = f"{portal.url}/subscriptions/{sub.id}"
    response = requests.post(action, data={"action": "cancel_at_period_end"}, timeout=10)
    assert response.status_code == 200 and "Ends on" in response.text
    assert client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end
    webhooks.wait_for("customer.subscription.updated")
    last_update = _received(webhooks, "customer.subscription.updated")[-1]
    assert last_update.data.object.cancel_at_period_end is True
    requests.post(action, data={"action": "cancel_now"}, timeout=10)
    webhooks.wait_for("customer.subscription.deleted")
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    page = requests.get(portal.url, timeout=10).text
    assert re.search(r"data-status>\s*canceled", page)


def test_portal_refuses_someone_elses_subscription(client, subscribe):
    """A portal session can only act on its own customer's subscriptions."""
    mine, theirs = subscribe(), subscribe()
    portal = client.v1.billing_portal.sessions.create(params={"customer": mine.customer})
    response = requests.post(
        f"{portal.url}/subscriptions/{theirs.id}", data={"action": "cancel_now"}, timeout=10
    )
    assert response.status_code == 404
    assert client.v1.subscriptions.retrieve(theirs.id).status == "active"

"""PaymentIntents, Charges, Refunds and Disputes."""

import pytest
import stripe

from .helpers import WEBHOOK_SECRET, one_off_params


def test_payment_intents_and_charges_read(client, paid_one_off):
    """Retrieve and list PaymentIntents and Charges, with filters and expansion."""
    intent = paid_one_off.payment_intent
    charge = intent.latest_charge
    assert intent.status == "succeeded" and intent.amount_received == 1000
    assert charge.object == "charge" and charge.paid and charge.status == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).latest_charge == charge.id
    assert [i.id for i in client.v1.payment_intents.list().data] == [intent.id]
    listed = client.v1.charges.list(params={"payment_intent": intent.id})
    assert [c.id for c in listed.data] == [charge.id]
    assert client.v1.charges.list(params={"payment_intent": "pi_other"}).data == []
    fetched = client.v1.charges.retrieve(charge.id, params={"expand": ["payment_intent"]})
    assert fetched.payment_intent.id == intent.id
    assert fetched.amount_refunded == 0 and not fetched.refunded and not fetched.disputed
    assert fetched.payment_method_details.card.last4 == "4242"


def test_partial_then_full_refund_by_payment_intent(client, paid_one_off, webhooks):
    """Partial refund, then the rest; charge.refunded each time; no over-refund."""
    intent = paid_one_off.payment_intent
    first = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 300})
    assert (first.amount, first.status, first.charge) == (300, "succeeded", intent.latest_charge.id)
    charge = client.v1.charges.retrieve(intent.latest_charge.id)
    assert (charge.amount_refunded, charge.refunded) == (300, False)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 701})
    assert (caught.value.code, caught.value.param) == ("amount_too_large", "amount")
    rest = client.v1.refunds.create(params={"payment_intent": intent.id})
    assert rest.amount == 700
    charge = client.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (1000, True)
    assert [r.id for r in charge.refunds.data] == [rest.id, first.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"charge": charge.id})
    assert caught.value.code == "charge_already_refunded"

    webhooks.wait_for("charge.refunded")
    assert webhooks.types().count("charge.refunded") == 2
    assert client.v1.events.list(params={"type": "charge.refunded"}).data[0].data.object.refunded


def test_full_refund_by_charge(client, paid_one_off):
    """Refund by charge id, with reason and metadata; list and retrieve refunds."""
    charge_id = paid_one_off.payment_intent.latest_charge.id
    refund = client.v1.refunds.create(
        params={"charge": charge_id, "reason": "requested_by_customer", "metadata": {"ticket": "7"}}
    )
    assert refund.id.startswith("re_") and refund.amount == 1000
    assert refund.reason == "requested_by_customer" and refund.metadata["ticket"] == "7"
    assert client.v1.refunds.retrieve(refund.id).payment_intent == paid_one_off.payment_intent.id
    assert [r.id for r in client.v1.refunds.list(params={"charge": charge_id}).data] == [refund.id]
    assert client.v1.charges.retrieve(charge_id).refunded


@pytest.mark.parametrize(
    "params, code",
    [
        ({}, "parameter_missing"),
        ({"charge": "ch_missing"}, "resource_missing"),
        ({"payment_intent": "pi_missing"}, "resource_missing"),
        ({"charge": "ch_x", "payment_intent": "pi_x"}, "parameters_exclusive"),
    ],
)
def test_refund_errors(client, params, code):
    """Refund requests without a valid target are refused."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params=params)
    assert caught.value.code == code


def test_refund_of_unpaid_intent_is_refused(client, pay):
    """A PaymentIntent whose card was declined has nothing to refund."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    pay(session.id, "4000000000000002")
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent_id})
    assert caught.value.param == "payment_intent"


def test_dispute(client, paid_one_off, control, webhooks):
    """The dispute control opens a dispute, marks the charge and emits the event."""
    charge_id = paid_one_off.payment_intent.latest_charge.id
    response = control("POST", f"/charges/{charge_id}/dispute")
    assert response.status_code == 200
    dispute = response.json()
    assert dispute["id"].startswith("dp_") and dispute["charge"] == charge_id
    assert dispute["status"] == "needs_response" and dispute["amount"] == 1000
    assert client.v1.charges.retrieve(charge_id).disputed
    webhooks.wait_for("charge.dispute.created")
    _, _, body, signature = webhooks.received[-1]
    event = stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET)
    assert event.type == "charge.dispute.created" and event.data.object.id == dispute["id"]
    assert control("POST", f"/charges/{charge_id}/dispute").status_code == 409
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"charge": charge_id})
    assert caught.value.code == "charge_disputed"
    assert control("POST", "/charges/ch_missing/dispute").status_code == 404

"""POST /v1/payment_intents, /confirm and /cancel with Stripe's test PaymentMethods."""

import pytest
import stripe

from .helpers import conforming


def test_create_and_confirm_succeeds_with_charge_and_fee(client, api, webhooks):
    customer = client.v1.customers.create(params={"email": "reader@example.com"})
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method_types": ["card"],
            "metadata": {"story": "x"},
            "description": "Gift",
            "receipt_email": "reader@example.com",
        }
    )
    assert (intent.status, intent.amount_received, intent.latest_charge) == (
        "requires_payment_method", 0, None)
    confirmed = client.v1.payment_intents.confirm(
        intent.id,
        params={"payment_method": "pm_card_visa", "expand": ["latest_charge.balance_transaction"]},
    )
    assert (confirmed.status, confirmed.amount_received) == ("succeeded", 1000)
    charge = confirmed.latest_charge
    assert (charge.amount, charge.customer, charge.payment_intent) == (1000, customer.id, intent.id)
    assert (charge.balance_transaction.fee, charge.balance_transaction.net) == (59, 941)
    assert confirmed.payment_method.startswith("pm_")
    assert confirmed.receipt_email == "reader@example.com"
    webhooks.wait_for("payment_intent.succeeded")
    types = webhooks.types()
    assert types.index("payment_intent.created") < types.index("charge.succeeded") < \
        types.index("payment_intent.succeeded")
    conforming(api, "GET", f"/v1/payment_intents/{intent.id}")
    listed = client.v1.payment_intents.list(params={"customer": customer.id}).data
    assert [i.id for i in listed] == [intent.id]


def test_create_with_confirm_true(client):
    intent = client.v1.payment_intents.create(
        params={"amount": 2500, "currency": "gbp", "payment_method": "pm_card_mastercard",
                "confirm": True}
    )
    assert intent.status == "succeeded"
    assert intent.automatic_payment_methods.enabled is True
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.payment_method_details.card.brand == "mastercard"


def test_payment_method_given_at_create_waits_for_confirmation(client):
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa"}
    )
    assert intent.status == "requires_confirmation"
    assert client.v1.payment_intents.confirm(intent.id).status == "succeeded"


@pytest.mark.parametrize(
    "method, decline_code",
    [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_visa_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
def test_declined_confirmation_is_a_card_error(client, api, webhooks, method, decline_code):
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.CardError) as error:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": method})
    assert (error.value.http_status, error.value.code) == (402, "card_declined")
    assert error.value.error.decline_code == decline_code
    assert error.value.error.payment_intent.id == intent.id
    after = client.v1.payment_intents.retrieve(intent.id)
    assert (after.status, after.latest_charge) == ("requires_payment_method", None)
    assert after.last_payment_error.decline_code == decline_code
    webhooks.wait_for("payment_intent.payment_failed")
    assert "charge.succeeded" not in webhooks.types()
    # The intent can be tried again with another card.
    assert client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa"}).status == "succeeded"


def test_declined_answer_fits_the_error_schema(api):
    intent = api("POST", "/v1/payment_intents", data={"amount": 1000, "currency": "usd"}).json()
    response = conforming(api, "POST", f"/v1/payment_intents/{intent['id']}/confirm",
                          data={"payment_method": "pm_card_chargeDeclined"})
    assert response.status_code == 402


def test_three_d_secure_card_requires_action(client):
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd",
                "payment_method": "pm_card_threeDSecure2Required", "confirm": True}
    )
    assert intent.status == "requires_action"
    assert intent.next_action.type == "use_stripe_sdk"


def test_confirm_without_payment_method_or_twice(client):
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.payment_intents.confirm(intent.id)
    assert error.value.code == "payment_intent_unexpected_state"
    client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.payment_intents.confirm(intent.id)
    assert error.value.code == "payment_intent_unexpected_state"
    assert "already succeeded" in str(error.value)


def test_cancel(client, webhooks):
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    canceled = client.v1.payment_intents.cancel(
        intent.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "requested_by_customer")
    assert canceled.canceled_at is not None
    webhooks.wait_for("payment_intent.canceled")
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert error.value.code == "payment_intent_unexpected_state"


def test_cancel_succeeded_is_refused(client):
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa",
                "confirm": True}
    )
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.payment_intents.cancel(intent.id)
    assert (error.value.http_status, error.value.code) == (400, "payment_intent_unexpected_state")
    assert "status of succeeded" in str(error.value)
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_create_errors(client):
    def refused(**params):
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.payment_intents.create(params=params)
        return error.value

    assert (refused(currency="usd").code, refused(currency="usd").param) == (
        "parameter_missing", "amount")
    assert refused(amount=1000).param == "currency"
    small = refused(amount=10, currency="usd")
    assert (small.code, small.param) == ("amount_too_small", "amount")
    assert refused(amount=1000, currency="usd", customer="cus_nope").http_status == 400
    assert refused(amount=1000, currency="usd", payment_method="pm_nope").http_status == 400
    assert refused(amount=1000, currency="usd", capture_method="manual").code == \
        "parameter_unknown"
    assert refused(amount=1000, currency="usd", payment_method_types=["ideal"]).param == \
        "payment_method_types[0]"
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.payment_intents.cancel("pi_nope")
    assert error.value.http_status == 404


def test_create_is_idempotent(api):
    data = {"amount": "1000", "currency": "usd", "payment_method": "pm_card_visa",
            "confirm": "true"}
    headers = {"Idempotency-Key": "pi-1"}
    first = api("POST", "/v1/payment_intents", data=data, headers=headers).json()
    again = api("POST", "/v1/payment_intents", data=data, headers=headers).json()
    assert first["id"] == again["id"]
    assert len(api("GET", "/v1/charges").json()["data"]) == 1


def test_attach_test_payment_method(client):
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    assert method.customer == customer.id and method.card.last4 == "4242"
    with pytest.raises(stripe.CardError) as error:
        client.v1.payment_methods.attach("pm_card_chargeDeclined",
                                         params={"customer": customer.id})
    assert error.value.code == "card_declined"
    # A card that belongs to a customer is only charged for that customer.
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "payment_method": method.id})
    assert error.value.param == "payment_method"


def test_card_that_declines_after_attaching(client):
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    method = client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                              params={"customer": customer.id})
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "customer": customer.id,
                    "payment_method": method.id, "confirm": True})

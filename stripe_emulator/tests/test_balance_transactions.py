"""Balance transactions: Stripe's fee and net on charges, refunds and disputes."""

import pytest
import stripe

from stripe_emulator.fees import processing_fee

from .helpers import one_off_params

# Worked by hand from Stripe's published standard pricing (see stripe_emulator/fees.py):
# (amount, currency, fee)
HAND_WORKED = [
    (1000, "usd", 59),  # 2.9% of $10.00 = 29c, + 30c
    (777, "usd", 53),  # 22.533c rounds to 23c, + 30c
    (500, "gbp", 28),  # 1.5% of £5.00 = 7.5p, halves up to 8p, + 20p
    (1234, "eur", 44),  # 18.51c rounds to 19c, + 25c
    (2000, "aud", 64),  # 1.7% of A$20.00 = 34c, + 30c
    (2500, "cad", 103),  # 2.9% of C$25.00 = 72.5c, halves up to 73c, + 30c
    (50, "usd", 31),  # Stripe's minimum charge: 1.45c rounds to 1c, + 30c
]


@pytest.mark.parametrize(("amount", "currency", "fee"), HAND_WORKED)
def test_processing_fee_per_currency(amount, currency, fee):
    assert processing_fee(amount, currency) == fee


@pytest.mark.parametrize(("amount", "currency", "fee"), HAND_WORKED[:5])
def test_charge_has_balance_transaction(client, pay, amount, currency, fee):
    """A paid charge names its balance transaction; expanded, it carries fee and net."""
    session = client.v1.checkout.sessions.create(params=one_off_params(amount, currency))
    pay(session.id)
    intent = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).payment_intent,
        params={"expand": ["latest_charge.balance_transaction"]})
    txn = intent.latest_charge.balance_transaction
    assert txn.object == "balance_transaction" and txn.id.startswith("txn_")
    assert (txn.amount, txn.fee, txn.net, txn.currency) == (amount, fee, amount - fee, currency)
    assert (txn.type, txn.reporting_category, txn.source) == (
        "charge", "charge", intent.latest_charge.id)
    assert [(d.amount, d.currency, d.type) for d in txn.fee_details] == [
        (fee, currency, "stripe_fee")]
    assert txn.available_on > txn.created and txn.available_on % 86400 == 0
    assert client.v1.balance_transactions.retrieve(txn.id).net == amount - fee


def test_refund_and_dispute_transactions(client, paid_one_off, control):
    """A refund withdraws its amount with no fee back; a dispute withdraws the rest plus
    the dispute fee, and embeds that transaction."""
    charge = paid_one_off.payment_intent.latest_charge
    refund = client.v1.refunds.create(
        params={"charge": charge.id, "amount": 300, "expand": ["balance_transaction"]})
    txn = refund.balance_transaction
    assert (txn.amount, txn.fee, txn.net, txn.type, txn.source) == (
        -300, 0, -300, "refund", refund.id)
    dispute = control("POST", f"/charges/{charge.id}/dispute").json()
    [withdrawal] = dispute["balance_transactions"]
    assert (withdrawal["amount"], withdrawal["fee"], withdrawal["net"]) == (-700, 1500, -2200)
    assert withdrawal["reporting_category"] == "dispute"
    assert withdrawal["fee_details"][0]["description"] == "Dispute fee"
    assert client.v1.balance_transactions.retrieve(withdrawal["id"]).source == dispute["id"]
    listed = client.v1.balance_transactions.list()
    assert [t.type for t in listed.data] == ["adjustment", "refund", "charge"]
    assert sum(t.net for t in listed.data) == 1000 - 59 - 300 - 700 - 1500
    assert [t.id for t in client.v1.balance_transactions.list(
        params={"source": refund.id}).data] == [txn.id]


def test_transaction_becomes_available_with_the_clock(client, paid_one_off, control):
    txn_id = paid_one_off.payment_intent.latest_charge.balance_transaction
    assert client.v1.balance_transactions.retrieve(txn_id).status == "pending"
    control("POST", "/clock/advance", data={"days": 3})
    assert client.v1.balance_transactions.retrieve(txn_id).status == "available"


def test_unknown_balance_transaction_is_404(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.balance_transactions.retrieve("txn_missing")
    assert caught.value.http_status == 404

"""Stripe's fee on each payment, recorded from webhooks (Stripe faked in memory; the fake
fails any call made inside a write transaction)."""
from datetime import UTC, datetime

from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Contribution
from supportapp.services.payment_fees import Withdrawal, charge_fee, dispute_withdrawal
from tests import stripe_fakes as sf


def _row():
    db.session.expire_all()
    return db.session.scalars(select(Contribution)).one()


def _paid(client, fake_stripe, amount=1000, fee=59, currency="usd"):
    session = fake_stripe.add_session(sf.checkout_session(amount=amount, currency=currency))
    fake_stripe.add_balance(session["payment_intent"], amount, fee, currency)
    evt = sf.event("checkout.session.completed", session)
    assert sf.post_event(client, evt).status_code == 200
    return session


def test_paid_checkout_records_fee_and_net(client, fake_stripe):
    _paid(client, fake_stripe)
    row = _row()
    assert (row.fee_minor, row.net_of_fees_minor) == (59, 941)


def test_refund_then_dispute_netted_with_dispute_fee(client, fake_stripe):
    """$10 paid (fee 59c), $3 refunded, the other $7 disputed with a $15 fee."""
    session = _paid(client, fake_stripe)
    charge = sf.charge(session["payment_intent"], amount=1000, refunded=300)
    assert sf.post_event(client, sf.event("charge.refunded", charge)).status_code == 200
    dispute = sf.dispute(charge["id"], session["payment_intent"], amount=700)
    dispute["balance_transactions"] = [sf.resource(
        "balance_transaction", amount=-700, fee=1500, net=-2200, currency="usd",
        type="adjustment", reporting_category="dispute")]
    for _ in range(2):  # delivered twice: counted once
        assert sf.post_event(client, sf.event("charge.dispute.created", dispute)).status_code == 200
    row = _row()
    assert (row.amount_refunded_minor, row.disputed_minor, row.dispute_fee_minor) == (300, 700,
                                                                                      1500)
    assert row.net_of_fees_minor == 1000 - 300 - 700 - 59 - 1500
    assert row.status == "disputed"


def test_refund_before_payment_event_records_fee(client, fake_stripe):
    """The refund's event can come first: it asks Stripe for the charge's fee too."""
    charge = sf.charge(sf.new_id("pi"), amount=2000, refunded=2000)
    fake_stripe.add_balance(charge["id"], 2000, 88)
    assert sf.post_event(client, sf.event("charge.refunded", charge)).status_code == 200
    row = _row()
    assert (row.fee_minor, row.net_of_fees_minor, row.status) == (88, -88, "refunded")


def test_renewal_records_fee(client, fake_stripe):
    intent = sf.new_id("pi")
    sub_id = sf.new_id("sub")
    fake_stripe.subscriptions[sub_id] = sf.subscription(sub_id)
    fake_stripe.add_balance(intent, 500, 45)
    evt = sf.event("invoice.paid", sf.invoice(sub_id, amount=500, payment_intent=intent))
    assert sf.post_event(client, evt).status_code == 200
    assert (_row().fee_minor, _row().net_of_fees_minor) == (45, 455)


def test_no_balance_transaction_leaves_fee_unknown(client, fake_stripe):
    session = fake_stripe.add_session(sf.checkout_session(amount=500))
    assert sf.post_event(client, sf.event("checkout.session.completed", session)).status_code == 200
    assert (_row().fee_minor, _row().net_of_fees_minor) == (None, None)


def test_stripe_down_while_asking_for_the_fee_retries(client, fake_stripe):
    """Nothing is acknowledged that could not be asked: Stripe down means try again."""
    session = fake_stripe.add_session(sf.checkout_session(amount=500))
    fake_stripe.add_balance(session["payment_intent"], 500, 45)
    fake_stripe.unavailable = True
    evt = sf.event("checkout.session.completed", session)
    assert sf.post_event(client, evt).status_code >= 500
    fake_stripe.unavailable = False
    assert sf.post_event(client, evt).status_code == 200
    assert _row().fee_minor == 45


def test_fee_in_another_currency_is_not_taken_as_ours():
    txn = sf.resource("balance_transaction", fee=40, currency="usd")
    assert charge_fee(txn, "USD") == 40
    assert charge_fee(txn, "GBP") is None  # settled in USD: no exchange rate to apply
    assert charge_fee(None, "USD") is None
    assert charge_fee({**txn, "fee": -1}, "USD") is None


def test_dispute_withdrawal_sums_its_transactions():
    dispute = {"balance_transactions": [
        {"amount": -700, "fee": 1500, "currency": "usd"},
        {"amount": -100, "fee": 0, "currency": "usd"}]}
    assert dispute_withdrawal(dispute, "USD") == Withdrawal(800, 1500)
    assert dispute_withdrawal({"balance_transactions": []}, "USD") is None


def _old_payment(**ids):
    row = Contribution(amount_minor=1000, currency="USD", frequency="one_off", status="paid",
                       paid_at=datetime.now(UTC), **ids)
    db.session.add(row)
    db.session.commit()
    return row.id


def test_flask_stripe_fees_backfills_old_payments(app, fake_stripe):
    """Payments recorded before fees were get theirs from Stripe; one Stripe has no
    transaction for stays unknown; a known fee is not asked again."""
    by_charge = _old_payment(stripe_charge_id="ch_old1")
    by_intent = _old_payment(stripe_payment_intent_id="pi_old2")
    unknown = _old_payment(stripe_payment_intent_id="pi_old3")
    fake_stripe.add_balance("ch_old1", 1000, 59)
    fake_stripe.add_balance("pi_old2", 1000, 61)
    result = app.test_cli_runner().invoke(args=["stripe", "fees"])
    assert result.exit_code == 0, result.output
    assert "Fees recorded for 2 payments; 1 still unknown" in result.output
    db.session.expire_all()
    fees = {i: db.session.get(Contribution, i).fee_minor for i in (by_charge, by_intent, unknown)}
    assert fees == {by_charge: 59, by_intent: 61, unknown: None}
    fake_stripe.unavailable = True
    result = app.test_cli_runner().invoke(args=["stripe", "fees"])
    assert result.exit_code == 1 and "could not be reached" in result.output

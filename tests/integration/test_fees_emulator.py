"""Money net of fees, end to end: the emulator's balance transactions reach the app by its
webhooks (each fee asked of the emulator before the event is claimed) and the reports."""
from datetime import UTC, datetime

from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Contribution
from supportapp.services.net_revenue import money_by_story
from supportapp.services.periods import parse_period


def test_payment_partial_refund_and_dispute(live, make_story):
    """$10.00 paid (fee 2.9% + 30c = 59c), $3.00 refunded (Stripe keeps the fee), the
    remaining $7.00 disputed ($15.00 dispute fee): net 10 - 3 - 7 - 0.59 - 15 = -15.59."""
    story = make_story(slug="harbour-fees")
    session_id = live.start_checkout(amount="10", story=story.slug)
    assert live.pay(session_id).json()["status"] == "complete"
    live.settle()
    db.session.rollback()
    row = db.session.scalars(select(Contribution)).one()
    assert (row.amount_minor, row.fee_minor, row.net_of_fees_minor) == (1000, 59, 941)

    session = live.stripe.v1.checkout.sessions.retrieve(
        session_id, params={"expand": ["payment_intent"]})
    charge_id = session.payment_intent.latest_charge
    live.stripe.v1.refunds.create(params={"charge": charge_id, "amount": 300})
    assert live.control(f"/charges/{charge_id}/dispute").status_code == 200
    live.settle()

    db.session.rollback()
    row = db.session.scalars(select(Contribution)).one()
    assert (row.amount_refunded_minor, row.disputed_minor, row.dispute_fee_minor,
            row.status) == (300, 700, 1500, "disputed")
    week = parse_period("7d", None, None, datetime.now(UTC).date())
    money = money_by_story(week)[story.id]["USD"]
    assert money.as_record() == {"gross": 1000, "fees": 1559, "refunds": 1000, "net": -1559,
                                 "payments_fee_unknown": 0}


def test_monthly_gift_and_renewal_record_their_fees(live):
    """Each payment of a subscription (first and renewal) has its own fee: $5.00 at
    2.9% (14.5c, halves up to 15c) + 30c = 45c."""
    session_id = live.start_checkout(frequency="monthly", amount="5")
    live.pay(session_id)
    sub_id = live.subscription_of(session_id)
    assert live.control(f"/subscriptions/{sub_id}/advance").json()["paid"] is True
    live.settle()
    db.session.rollback()
    rows = db.session.scalars(select(Contribution).order_by(Contribution.id)).all()
    assert [(r.billing_reason, r.fee_minor, r.net_of_fees_minor) for r in rows] == [
        ("subscription_create", 45, 455), ("subscription_cycle", 45, 455)]

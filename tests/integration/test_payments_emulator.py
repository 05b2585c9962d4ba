"""The whole money path against the local Stripe emulator, webhooks delivered for real."""
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Contribution, RecurringSupport, StripeEvent
from tests.integration.conftest import CARD_DECLINED, CARD_RENEWAL_FAILS


def _rows(model, **where):
    db.session.rollback()  # see what the live server committed
    query = select(model).filter_by(**where).order_by(model.id)
    return db.session.scalars(query).all()


def _support(session_id):
    return _rows(RecurringSupport, stripe_checkout_session_id=session_id)[0]


def test_one_off_paid(live, make_story):
    """A reader gives 5 once: one paid contribution attributed to the story; thanks page."""
    story = make_story(slug="harbour-dredging")
    session_id = live.start_checkout(amount="5", story=story.slug)
    assert live.pay(session_id).json()["status"] == "complete"
    live.settle()
    (row,) = _rows(Contribution)
    assert (row.amount_minor, row.currency, row.status, row.frequency) == (500, "USD", "paid",
                                                                           "one_off")
    assert row.story_id == story.id and row.stripe_customer_id.startswith("cus_")
    assert row.stripe_checkout_session_id == session_id
    page = live.browser.get(f"{live.url}/contribute/thanks?session_id={session_id}", timeout=30)
    assert page.status_code == 200 and "Thank you!" in page.text and "$5" in page.text
    assert "sa_supporter" in page.cookies
    assert len(_rows(Contribution)) == 1  # the thank-you page did not add a second


def test_one_off_declined(live):
    """A declined card: nothing recorded as paid, and the thanks URL says not completed."""
    session_id = live.start_checkout(amount="7.50")
    answer = live.pay(session_id, card=CARD_DECLINED)
    assert answer.status_code == 402
    live.settle()
    assert [r.status for r in _rows(Contribution)] == []
    page = live.browser.get(f"{live.url}/contribute/thanks?session_id={session_id}", timeout=30)
    assert "was not completed" in page.text and "sa_supporter" not in page.cookies


def test_monthly_renewed_twice_then_cancelled(live):
    """Monthly: first payment and two renewals counted once each; cancelling ends the support."""
    session_id = live.start_checkout(frequency="monthly", amount="5")
    live.pay(session_id)
    sub_id = live.subscription_of(session_id)
    for _ in range(2):
        assert live.control(f"/subscriptions/{sub_id}/advance").json()["paid"] is True
    live.settle()
    rows = _rows(Contribution, stripe_subscription_id=sub_id)
    assert [(r.billing_reason, r.amount_minor, r.status, r.frequency) for r in rows] == [
        ("subscription_create", 500, "paid", "monthly"),
        ("subscription_cycle", 500, "paid", "monthly"),
        ("subscription_cycle", 500, "paid", "monthly"),
    ]
    support = _support(session_id)
    assert (support.status, support.interval, support.amount_minor) == ("active", "month", 500)
    live.stripe.v1.subscriptions.cancel(sub_id)
    live.settle()
    support = _support(session_id)
    assert support.status == "canceled" and support.cancelled_at is not None
    assert len(_rows(Contribution)) == 3


def test_annual_renewal_fails(live):
    """Annual gift whose renewal is declined: a failed contribution and a past_due support."""
    session_id = live.start_checkout(frequency="annual", amount="50")
    live.pay(session_id, card=CARD_RENEWAL_FAILS)
    sub_id = live.subscription_of(session_id)
    assert live.control(f"/subscriptions/{sub_id}/advance").json()["status"] == "past_due"
    live.settle()
    rows = _rows(Contribution, stripe_subscription_id=sub_id)
    assert [(r.billing_reason, r.status) for r in rows] == [
        ("subscription_create", "paid"), ("subscription_cycle", "failed")]
    support = _support(session_id)
    assert (support.status, support.interval) == ("past_due", "year")


def test_cancel_at_period_end(live):
    """Cancelling at period end keeps the supporter until the period ends."""
    session_id = live.start_checkout(frequency="monthly", amount="3")
    live.pay(session_id)
    sub_id = live.subscription_of(session_id)
    live.stripe.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    live.settle()
    support = _support(session_id)
    assert support.status == "active" and support.cancel_at_period_end is True
    live.control(f"/subscriptions/{sub_id}/advance")
    live.settle()
    assert _support(session_id).status == "canceled"


def test_partial_then_full_refund(live):
    """A partial refund, then the rest: partially refunded, then refunded, on the same row."""
    session_id = live.start_checkout(amount="20")
    live.pay(session_id)
    live.settle()
    intent = _rows(Contribution)[0].stripe_payment_intent_id
    live.stripe.v1.refunds.create(params={"payment_intent": intent, "amount": 500})
    live.settle()
    assert [(r.status, r.amount_refunded_minor) for r in _rows(Contribution)] == [
        ("partially_refunded", 500)]
    live.stripe.v1.refunds.create(params={"payment_intent": intent})
    live.settle()
    assert [(r.status, r.amount_refunded_minor) for r in _rows(Contribution)] == [
        ("refunded", 2000)]


def test_dispute(live):
    """A dispute on a gift marks the contribution disputed."""
    session_id = live.start_checkout(amount="10")
    live.pay(session_id)
    intent = live.stripe.v1.payment_intents.retrieve(
        live.stripe.v1.checkout.sessions.retrieve(session_id).payment_intent)
    live.control(f"/charges/{intent.latest_charge}/dispute")
    live.settle()
    (row,) = _rows(Contribution)
    assert row.status == "disputed" and row.stripe_charge_id == intent.latest_charge


def test_every_event_stored_once(live):
    """Each event the emulator sent is stored once and processed."""
    session_id = live.start_checkout(frequency="monthly")
    live.pay(session_id)
    live.settle()
    stored = _rows(StripeEvent)
    sent = [e["id"] for e in live.events()]
    assert sorted(e.event_id for e in stored) == sorted(sent)
    assert all(e.processed_at is not None for e in stored)

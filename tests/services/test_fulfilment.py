"""Applying Stripe events: exactly one correct record whatever the order and repetition."""
import itertools
import time

import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, Contribution, RecurringSupport
from supportapp.services.contributions import subscription_is_active
from supportapp.services.stripe_events import receive_event
from tests import stripe_fakes as sf


def _apply(*events):
    return [receive_event(evt) for evt in events]


def _contributions():
    return db.session.scalars(select(Contribution).order_by(Contribution.id)).all()


def _support():
    return db.session.scalars(select(RecurringSupport)).one()


@pytest.fixture
def appeal(app, make_story):
    story = make_story(slug="harbour-dredging")
    appeal = Appeal(name="Winter", status="live")
    variant = AppealVariant(appeal=appeal, name="A", heading="h", body="b", cta_label="Give")
    db.session.add_all([appeal, variant])
    db.session.commit()
    return {"story": story.slug, "appeal": str(appeal.id), "variant": str(variant.id),
            "story_id": story.id, "appeal_id": appeal.id, "variant_id": variant.id}


def _monthly(fake_stripe, appeal, amount=500):
    """A paid monthly checkout and its first invoice, as Stripe sends them."""
    metadata = {"frequency": "monthly", "story": appeal["story"], "appeal": appeal["appeal"],
                "variant": appeal["variant"], "reader": "r" * 22}
    session = fake_stripe.add_session(sf.checkout_session(
        mode="subscription", amount=amount, metadata=metadata))
    sub_id = session["subscription"]
    first = sf.invoice(sub_id, amount, metadata=metadata, payment_intent=sf.new_id("pi"))
    return session, sub_id, metadata, first


def test_one_off_attributed_to_story_and_variant(fake_stripe, appeal):
    """A paid one-off gift records who won it: story, appeal, variant and reader."""
    metadata = {k: appeal[k] for k in ("story", "appeal", "variant")}
    session = fake_stripe.add_session(sf.checkout_session(metadata={**metadata,
                                                                    "reader": "r" * 22}))
    _apply(sf.event("checkout.session.completed", session))
    (row,) = _contributions()
    assert (row.story_id, row.appeal_id, row.variant_id) == (
        appeal["story_id"], appeal["appeal_id"], appeal["variant_id"])
    assert row.reader_id == "r" * 22 and row.frequency == "one_off" and row.status == "paid"


def test_unknown_attribution_is_dropped(fake_stripe, app):
    """Metadata naming no real story or appeal is left out rather than breaking the record."""
    session = fake_stripe.add_session(sf.checkout_session(
        metadata={"story": "gone", "appeal": "999", "variant": "x", "reader": "<bad>"}))
    _apply(sf.event("checkout.session.completed", session))
    (row,) = _contributions()
    assert (row.story_id, row.appeal_id, row.variant_id, row.reader_id) == (None,) * 4


def test_async_payment_pending_then_succeeds(fake_stripe, app):
    """A slow payment method: pending at checkout, paid when async_payment_succeeded arrives."""
    session = fake_stripe.add_session(sf.checkout_session(payment_status="unpaid"))
    _apply(sf.event("checkout.session.completed", session))
    assert [r.status for r in _contributions()] == ["pending"]
    fake_stripe.sessions[session["id"]]["payment_status"] = "paid"
    _apply(sf.event("checkout.session.async_payment_succeeded", session))
    assert [r.status for r in _contributions()] == ["paid"]


def test_async_payment_fails(fake_stripe, app):
    """A slow payment that fails leaves one failed contribution."""
    session = fake_stripe.add_session(sf.checkout_session(payment_status="unpaid"))
    _apply(sf.event("checkout.session.completed", session),
           sf.event("checkout.session.async_payment_failed", session))
    assert [r.status for r in _contributions()] == ["failed"]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_subscription_start_any_order(fake_stripe, appeal, order):
    """checkout.session.completed, invoice.paid and subscription.created in any order: one
    recurring support and the first payment counted once, attributed to the story."""
    session, sub_id, metadata, first = _monthly(fake_stripe, appeal)
    sub = sf.subscription(sub_id, metadata=metadata)
    events = [sf.event("checkout.session.completed", session),
              sf.event("invoice.paid", first),
              sf.event("customer.subscription.created", sub)]
    _apply(*[events[i] for i in order], *events)  # and each one again
    (row,) = _contributions()
    assert (row.amount_minor, row.status, row.billing_reason) == (500, "paid",
                                                                 "subscription_create")
    assert row.stripe_subscription_id == sub_id and row.frequency == "monthly"
    assert (row.story_id, row.variant_id) == (appeal["story_id"], appeal["variant_id"])
    support = _support()
    assert support.status == "active" and support.interval == "month"
    assert support.story_id == appeal["story_id"]
    assert support.stripe_checkout_session_id == session["id"]


def test_renewals_failure_and_cancellation(fake_stripe, appeal):
    """Two renewals, a failed renewal (past_due) and a cancellation, each counted once."""
    session, sub_id, metadata, first = _monthly(fake_stripe, appeal)
    now = int(time.time())
    renewals = [sf.invoice(sub_id, metadata=metadata, reason="subscription_cycle",
                           payment_intent=sf.new_id("pi")) for _ in range(2)]
    failed = sf.invoice(sub_id, metadata=metadata, reason="subscription_cycle", status="open")
    cancelled = sf.subscription(sub_id, status="canceled", canceled_at=now + 40)
    _apply(sf.event("checkout.session.completed", session, created=now),
           sf.event("invoice.paid", first, created=now),
           sf.event("invoice.paid", renewals[0], created=now + 10),
           sf.event("invoice.paid", renewals[1], created=now + 20))
    assert _support().status == "active"
    _apply(sf.event("invoice.payment_failed", failed, created=now + 30))
    assert _support().status == "past_due"
    _apply(sf.event("customer.subscription.deleted", cancelled, created=now + 40))
    assert [(r.billing_reason, r.status) for r in _contributions()] == [
        ("subscription_create", "paid"), ("subscription_cycle", "paid"),
        ("subscription_cycle", "paid"), ("subscription_cycle", "failed")]
    support = _support()
    assert support.status == "canceled" and support.cancelled_at is not None
    assert subscription_is_active(sub_id) is False
    # An older "active" update arriving late does not bring the gift back.
    _apply(sf.event("customer.subscription.updated", sf.subscription(sub_id), created=now + 5))
    assert _support().status == "canceled"


def test_cancel_at_period_end_keeps_supporter(fake_stripe, appeal):
    """Cancelling at period end is recorded; the reader stays a supporter until then."""
    _, sub_id, metadata, first = _monthly(fake_stripe, appeal)
    _apply(sf.event("invoice.paid", first),
           sf.event("customer.subscription.updated",
                    sf.subscription(sub_id, cancel_at_period_end=True)))
    support = _support()
    assert support.cancel_at_period_end is True and support.status == "active"
    assert support.current_period_end is not None
    assert subscription_is_active(sub_id) is True
    assert subscription_is_active("sub_unknown") is None


def test_partial_then_full_refund(fake_stripe, app):
    """Refund events carry cumulative amounts: partially refunded, then refunded."""
    session = fake_stripe.add_session(sf.checkout_session(amount=1000))
    charge = sf.charge(session["payment_intent"], amount=1000, refunded=400)
    _apply(sf.event("checkout.session.completed", session), sf.event("charge.refunded", charge))
    (row,) = _contributions()
    assert (row.status, row.amount_refunded_minor, row.net_minor) == ("partially_refunded",
                                                                      400, 600)
    _apply(sf.event("charge.refunded", {**charge, "amount_refunded": 1000}))
    assert [(r.status, r.amount_refunded_minor) for r in _contributions()] == [("refunded", 1000)]


def test_refund_before_payment_merges(fake_stripe, app):
    """A refund that arrives before its checkout ends as one refunded contribution."""
    session = fake_stripe.add_session(sf.checkout_session(amount=800))
    charge = sf.charge(session["payment_intent"], amount=800, refunded=800)
    _apply(sf.event("charge.refunded", charge), sf.event("checkout.session.completed", session))
    (row,) = _contributions()
    assert row.status == "refunded" and row.frequency == "one_off"
    assert row.stripe_checkout_session_id == session["id"]
    assert row.stripe_charge_id == charge["id"]


def test_renewal_refund_matches_invoice_payment(fake_stripe, appeal):
    """A refund of a subscription payment finds that payment through its payment intent."""
    _, sub_id, metadata, first = _monthly(fake_stripe, appeal)
    intent = first["payments"]["data"][0]["payment"]["payment_intent"]
    _apply(sf.event("invoice.paid", first),
           sf.event("charge.refunded", sf.charge(intent, amount=500, refunded=500)))
    assert [(r.stripe_invoice_id, r.status) for r in _contributions()] == [(first["id"],
                                                                            "refunded")]


def test_invoice_without_payments_asks_stripe(fake_stripe, appeal):
    """An invoice payload without `payments` gets its payment intent from Stripe."""
    _, sub_id, metadata, first = _monthly(fake_stripe, appeal)
    intent = first.pop("payments")["data"][0]["payment"]["payment_intent"]
    fake_stripe.invoice_intents[first["id"]] = intent
    _apply(sf.event("invoice.paid", first))
    assert _contributions()[0].stripe_payment_intent_id == intent


def test_dispute_marks_contribution(fake_stripe, app):
    """A dispute on a gift's charge marks that contribution disputed."""
    session = fake_stripe.add_session(sf.checkout_session())
    charge = sf.charge(session["payment_intent"])
    _apply(sf.event("checkout.session.completed", session),
           sf.event("charge.dispute.created", sf.dispute(charge["id"], charge["payment_intent"])))
    assert [r.status for r in _contributions()] == ["disputed"]


def test_foreign_invoice_ignored(app):
    """An invoice that belongs to no subscription is acknowledged and records nothing."""
    obj = sf.resource("invoice", id=sf.new_id("in"))
    obj["parent"] = None
    assert _apply(sf.event("invoice.paid", obj)) == ["applied"]
    assert _contributions() == []

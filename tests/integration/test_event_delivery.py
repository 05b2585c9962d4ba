"""Events delivered twice, concurrently, out of order, or never (then `stripe sync`): the
database ends the same, every payment counted exactly once."""
import json
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Contribution, RecurringSupport, StripeEvent
from tests.integration.conftest import CARD_RENEWAL_FAILS
from tests.stripe_fakes import signature

EXPECTED_CONTRIBUTIONS = sorted([
    ("one_off", None, 2000, "partially_refunded", 500),
    ("one_off", None, 1000, "disputed", 0),
    ("monthly", "subscription_create", 500, "paid", 0),
    ("monthly", "subscription_cycle", 500, "paid", 0),
    ("monthly", "subscription_cycle", 500, "paid", 0),
    ("annual", "subscription_create", 5000, "paid", 0),
    ("annual", "subscription_cycle", 5000, "failed", 0),
])
EXPECTED_SUPPORTS = [("month", "canceled"), ("year", "past_due")]


def _make_history(live):
    """Gifts of every kind, with refunds, a dispute, renewals, a failure and a cancellation."""
    refunded = live.start_checkout(amount="20")
    live.pay(refunded)
    intent = live.stripe.v1.checkout.sessions.retrieve(refunded).payment_intent
    live.stripe.v1.refunds.create(params={"payment_intent": intent, "amount": 500})
    disputed = live.start_checkout(amount="10")
    live.pay(disputed)
    charge = live.stripe.v1.payment_intents.retrieve(
        live.stripe.v1.checkout.sessions.retrieve(disputed).payment_intent).latest_charge
    live.control(f"/charges/{charge}/dispute")
    monthly = live.start_checkout(frequency="monthly", amount="5")
    live.pay(monthly)
    monthly_sub = live.subscription_of(monthly)
    live.control(f"/subscriptions/{monthly_sub}/advance")
    live.control(f"/subscriptions/{monthly_sub}/advance")
    live.stripe.v1.subscriptions.cancel(monthly_sub)
    annual = live.start_checkout(frequency="annual", amount="50")
    live.pay(annual, card=CARD_RENEWAL_FAILS)
    live.control(f"/subscriptions/{live.subscription_of(annual)}/advance")
    return live.events()


def _assert_expected_state(events):
    db.session.rollback()
    rows = db.session.scalars(select(Contribution)).all()
    assert sorted((r.frequency, r.billing_reason, r.amount_minor, r.status,
                   r.amount_refunded_minor) for r in rows) == EXPECTED_CONTRIBUTIONS
    supports = db.session.scalars(select(RecurringSupport).order_by(RecurringSupport.amount_minor))
    assert [(s.interval, s.status) for s in supports] == EXPECTED_SUPPORTS
    stored = db.session.scalars(select(StripeEvent)).all()
    assert sorted(s.event_id for s in stored) == sorted(e["id"] for e in events)
    assert all(s.processed_at is not None and s.error is None for s in stored)


def _deliver(live, event):
    body = json.dumps(event).encode()
    response = requests.post(f"{live.url}/stripe/webhook", data=body, timeout=60,
                             headers={"Stripe-Signature": signature(body),
                                      "Content-Type": "application/json"})
    return response.status_code


def test_every_event_twice_and_concurrently(live):
    """All events, each delivered twice at the same moment from many threads: one effect."""
    live.delivery(False)
    events = _make_history(live)
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda e: _deliver(live, e), [e for e in events for _ in (0, 1)]))
    retries = [e for e, code in zip([e for e in events for _ in (0, 1)], codes, strict=True)
               if code >= 500]
    for event in retries:  # what Stripe would do with a 5xx (e.g. a deadlock victim)
        assert _deliver(live, event) == 200
    assert all(code in (200, 500) for code in codes)
    _assert_expected_state(events)


def test_events_shuffled(live):
    """The same events in a shuffled order end in the same state."""
    live.delivery(False)
    events = _make_history(live)
    shuffled = events[:]
    random.Random(20261125).shuffle(shuffled)
    assert [_deliver(live, e) for e in shuffled] == [200] * len(shuffled)
    _assert_expected_state(events)


def test_emulator_delivery_with_duplicates(live):
    """Delivered by the emulator as it happens, then every event replayed: nothing changes."""
    events = _make_history(live)
    live.settle()
    _assert_expected_state(events)
    assert {_deliver(live, e) for e in events} == {200}
    _assert_expected_state(events)


def test_stripe_sync_recovers_missed_events(live):
    """With webhooks down, `stripe sync` applies every missed event; a second run finds none."""
    live.delivery(False)
    events = _make_history(live)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    result = _sync(live, today)
    assert result.exit_code == 0, result.output
    assert f"Seen {len(events)} events: {len(events)} applied, 0 already known" in result.output
    _assert_expected_state(events)
    again = _sync(live, today)
    assert f"0 applied, {len(events)} already known, 0 failed" in again.output


def _sync(live, since):
    with live.app.app_context():  # the CLI runs in the app that talks to the emulator
        return live.app.test_cli_runner().invoke(args=["stripe", "sync", "--since", since])


def test_stripe_sync_bad_date(live):
    """A date that is not YYYY-MM-DD is a clear CLI error with a non-zero exit."""
    result = _sync(live, "last week")
    assert result.exit_code != 0
    assert "'last week' is not a date; write it as YYYY-MM-DD" in result.output

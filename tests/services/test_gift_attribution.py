"""Direct, influenced and held-back credit: decided at checkout, carried to the gift."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Contribution, ReaderFunnel
from supportapp.services.checkout import CheckoutOrder
from supportapp.services.clock import current_time
from supportapp.services.contributions import attribution
from supportapp.services.gift_attribution import (
    Credit,
    credited_fields,
    gift_credit,
    influence_window,
    parse_token,
)

READER = "reader-" + "r" * 20


@pytest.fixture
def targets(app, drive_appeal, make_story):
    appeal = drive_appeal
    story, other = make_story(slug="harbour"), make_story(slug="ferry")
    return appeal, appeal.variants[0], appeal.variants[1], story, other


def _seen(reader_key, story, appeal_id, variant_id, at):
    db.session.add(ReaderFunnel(day=at.date(), reader_key=reader_key, story_id=story.id,
                                variant_id=variant_id, appeal_id=appeal_id, stage=1,
                                view_reported=False, last_seen_at=at))
    db.session.commit()


def _order(frequency="one_off", **fields):
    return CheckoutOrder(frequency=frequency, amount_minor=500, currency="USD",
                         reader_id=READER, **fields)


def test_token_round_trip_and_junk():
    credit = Credit("influenced", 12, 3, 7)
    assert credit.token == "influenced-s12-a3-v7"
    assert parse_token(credit.token) == credit
    assert parse_token("held_back-s1-a2-v0") == Credit("held_back", 1, 2, 0)
    for junk in ("direct-s1-a2-v0", "held_back-s1-a2-v3", "influenced-s1-a2", "x-s1-a2-v3",
                 "direct-s1-a2-v3 ", 17, None, "direct-s1234567890-a1-v1"):
        assert parse_token(junk) is None, junk


def test_direct_from_the_appeal_on_a_story(targets):
    appeal, control, challenger, story, _ = targets
    order = _order(story="harbour", appeal_id=appeal.id, variant_id=challenger.id)
    credit = gift_credit(order, story.id, current_time(), timedelta(days=7))
    assert credit == Credit("direct", story.id, appeal.id, challenger.id)


def test_reminder_link_is_not_direct(targets):
    """A gift from a reminder's link names the story but was made another way: influenced
    when the reader saw the appeal in the window, else no credit."""
    appeal, control, challenger, story, other = targets
    now = current_time()
    order = _order(story="harbour", appeal_id=appeal.id, variant_id=control.id, reminder_id=4)
    assert gift_credit(order, story.id, now, timedelta(days=7)) is None
    _seen(READER, other, appeal.id, control.id, now - timedelta(days=2))
    assert gift_credit(order, story.id, now, timedelta(days=7)) == Credit(
        "influenced", other.id, appeal.id, control.id)


@pytest.mark.parametrize(("frequency", "days"), [("one_off", 7), ("monthly", 14),
                                                  ("annual", 14)])
def test_influence_window_edges(app, targets, frequency, days):
    """Seen exactly the window ago counts; a second earlier does not. Both windows are the
    settings' (7 and 14 days by default)."""
    appeal, control, challenger, story, other = targets
    now = current_time()
    window = influence_window(frequency, app.config)
    assert window == timedelta(days=days)
    order = _order(frequency)  # from /support: no story
    _seen(READER, story, appeal.id, challenger.id, now - window - timedelta(seconds=1))
    assert gift_credit(order, None, now, window) is None
    _seen(READER, other, appeal.id, challenger.id, now - window)
    assert gift_credit(order, None, now, window) == Credit(
        "influenced", other.id, appeal.id, challenger.id)


def test_ten_days_ago_influences_recurring_only(app, targets):
    appeal, control, _, story, _ = targets
    now = current_time()
    _seen(READER, story, appeal.id, control.id, now - timedelta(days=10))
    one_off, monthly = _order("one_off"), _order("monthly")
    assert gift_credit(one_off, None, now, influence_window("one_off", app.config)) is None
    assert gift_credit(monthly, None, now, influence_window("monthly", app.config)) == Credit(
        "influenced", story.id, appeal.id, control.id)


def test_latest_exposure_wins_and_holdback_counts(targets):
    """The appeal last met decides; a reader last held back is credited to the holdback."""
    appeal, control, _, story, other = targets
    now = current_time()
    _seen(READER, story, appeal.id, control.id, now - timedelta(days=3))
    _seen(READER, other, appeal.id, 0, now - timedelta(days=1))
    assert gift_credit(_order(), None, now, timedelta(days=7)) == Credit(
        "held_back", other.id, appeal.id, 0)
    _seen("pv:" + READER, story, appeal.id, control.id, now)  # a page view's key: not theirs
    assert gift_credit(_order(), None, now, timedelta(days=7)).kind == "held_back"


def test_window_of_zero_and_no_reader_give_no_credit(targets):
    appeal, control, _, story, _ = targets
    now = current_time()
    _seen(READER, story, appeal.id, control.id, now)
    assert gift_credit(_order(), None, now, timedelta(0)) is None
    order = CheckoutOrder(frequency="one_off", amount_minor=500, currency="USD")
    assert gift_credit(order, None, now, timedelta(days=7)) is None


def test_credited_fields_check_what_the_token_names(targets):
    appeal, control, challenger, story, _ = targets
    good = {"attribution": f"influenced-s{story.id}-a{appeal.id}-v{challenger.id}"}
    assert credited_fields(good) == {
        "attribution_kind": "influenced", "credited_story_id": story.id,
        "credited_appeal_id": appeal.id, "credited_variant_id": challenger.id}
    held = credited_fields({"attribution": f"held_back-s{story.id}-a{appeal.id}-v0"})
    assert held["attribution_kind"] == "held_back" and held["credited_variant_id"] is None
    for bad in (f"direct-s{story.id}-a{appeal.id}-v999999",  # no such variant
                f"direct-s999999-a{appeal.id}-v{control.id}",  # no such story
                f"direct-s{story.id}-a999999-v{control.id}"):  # variant of another appeal
        assert credited_fields({"attribution": bad}) == {}, bad
    assert credited_fields({}) == {} and credited_fields(None) == {}


def test_attribution_of_metadata_fills_the_credit(targets):
    """A renewal's invoice carries the subscription's metadata: `attribution` reads the
    credit from it like the checkout's."""
    appeal, control, _, story, _ = targets
    values = attribution({"story": "harbour", "appeal": str(appeal.id),
                          "variant": str(control.id),
                          "attribution": f"direct-s{story.id}-a{appeal.id}-v{control.id}"})
    row = Contribution(amount_minor=500, currency="USD", **values)
    db.session.add(row)
    db.session.commit()
    saved = db.session.scalar(select(Contribution))
    assert (saved.attribution_kind, saved.credited_story_id, saved.credited_variant_id) == (
        "direct", story.id, control.id)


def test_checkout_carries_the_token(client, fake_stripe, targets):
    """The token goes in client_reference_id and in the session's, payment's and
    subscription's metadata."""
    appeal, control, challenger, story, other = targets
    client.set_cookie("sa_rid", READER)
    form = {"frequency": "one_off", "amount": "5", "currency": "USD", "nonce": "n" * 24,
            "story": "harbour", "appeal": str(appeal.id), "variant": str(challenger.id)}
    assert client.post("/contribute", data=form).status_code == 303
    params = fake_stripe.created[-1][0]
    token = f"direct-s{story.id}-a{appeal.id}-v{challenger.id}"
    assert params["client_reference_id"] == token
    assert params["metadata"]["attribution"] == token
    assert params["payment_intent_data"]["metadata"]["attribution"] == token
    _seen(READER, other, appeal.id, control.id, current_time() - timedelta(days=9))
    monthly = {"frequency": "monthly", "amount": "5", "currency": "USD", "nonce": "m" * 24}
    assert client.post("/contribute", data=monthly).status_code == 303
    params = fake_stripe.created[-1][0]
    token = f"influenced-s{other.id}-a{appeal.id}-v{control.id}"
    assert params["client_reference_id"] == token
    assert params["subscription_data"]["metadata"]["attribution"] == token

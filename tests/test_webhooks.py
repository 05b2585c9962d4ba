"""POST /stripe/webhook: signatures, storage by event id, exactly-once application."""
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from supportapp.extensions import db
from supportapp.models import Contribution, StripeEvent
from tests import stripe_fakes as sf


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _paid_one_off(fake_stripe, amount=500):
    session = fake_stripe.add_session(sf.checkout_session(amount=amount))
    return session, sf.event("checkout.session.completed", session)


@pytest.mark.parametrize("header", [
    None, "", "t=1,v1=deadbeef", "garbage",
    sf.signature(b"{}", secret="whsec_wrong"),
])
def test_bad_signature_is_400_and_stores_nothing(client, header):
    """No signature, a wrong one, or a signature of another body: 400, nothing stored."""
    body = json.dumps(sf.event("invoice.paid", {"id": "in_1"})).encode()
    headers = {"Stripe-Signature": header} if header is not None else {}
    response = client.post("/stripe/webhook", data=body, headers=headers,
                           content_type="application/json")
    assert response.status_code == 400
    assert _count(StripeEvent) == 0


def test_stale_timestamp_is_400(client):
    """A correctly signed event older than Stripe's 300 s tolerance is refused."""
    response = sf.post_event(client, sf.event("invoice.paid", {}),
                             timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert _count(StripeEvent) == 0


def test_paid_checkout_recorded_once(client, fake_stripe):
    """A paid one-off checkout becomes one paid contribution, however often it is delivered."""
    session, evt = _paid_one_off(fake_stripe)
    results = [sf.post_event(client, evt).get_json()["result"] for _ in range(3)]
    assert results == ["applied", "duplicate", "duplicate"]
    row = db.session.scalars(select(Contribution)).one()
    assert (row.amount_minor, row.currency, row.status) == (500, "USD", "paid")
    assert row.stripe_checkout_session_id == session["id"]
    assert row.stripe_payment_intent_id == session["payment_intent"]
    assert _count(StripeEvent) == 1


def test_unknown_event_type_stored_and_acknowledged(client):
    """An event type we do not act on is stored, marked processed and answered 200."""
    response = sf.post_event(client, sf.event("customer.created", sf.resource("customer")))
    assert response.status_code == 200 and response.get_json()["result"] == "ignored"
    stored = db.session.scalars(select(StripeEvent)).one()
    assert stored.type == "customer.created" and stored.processed_at is not None


@pytest.mark.parametrize("payload", [
    {"id": "evt_odd1", "type": "invoice.paid", "data": {"object": "not an object"}},
    {"id": "evt_odd2", "type": "charge.refunded", "data": {"object": {"id": 5}}},
    {"type": "invoice.paid"},
    ["a", "list"],
])
def test_unexpected_shape_stored_and_acknowledged(client, payload):
    """A correctly signed body of an unexpected shape is stored with its error and answered 2xx."""
    body = json.dumps(payload).encode()
    response = client.post("/stripe/webhook", data=body, content_type="application/json",
                           headers={"Stripe-Signature": sf.signature(body)})
    assert response.status_code == 200
    stored = db.session.scalars(select(StripeEvent)).one()
    assert stored.processed_at is not None
    assert _count(Contribution) == 0


def test_stripe_unreachable_answers_500_then_retry_applies(client, fake_stripe):
    """Stripe unreachable while fetching the session: 500 and unprocessed; the retry applies it."""
    _, evt = _paid_one_off(fake_stripe)
    fake_stripe.unavailable = True
    assert sf.post_event(client, evt).status_code == 500
    stored = db.session.scalars(select(StripeEvent)).one()
    assert stored.processed_at is None and "PaymentsUnavailable" in stored.error
    fake_stripe.unavailable = False
    assert sf.post_event(client, evt).get_json()["result"] == "applied"
    assert db.session.scalars(select(Contribution.status)).all() == ["paid"]


def test_database_error_answers_500_and_keeps_event_unprocessed(client, fake_stripe,
                                                               monkeypatch):
    """A database failure while applying answers 500 so that Stripe retries."""
    from supportapp.services import stripe_events

    def broken(event, facts):
        raise OperationalError("UPDATE", {}, Exception("database went away"))

    monkeypatch.setattr(stripe_events, "apply_event", broken)
    _, evt = _paid_one_off(fake_stripe)
    assert sf.post_event(client, evt).status_code == 500
    assert db.session.scalars(select(StripeEvent.processed_at)).one() is None


def test_bug_in_a_handler_answers_500_then_sync_applies_it(app, client, fake_stripe,
                                                          monkeypatch):
    """A handler's AttributeError (a bug of ours, not a bad payload) answers 500 and leaves
    the event unprocessed; once the bug is gone, `stripe sync` applies it exactly once."""
    from supportapp.services import fulfilment

    session, evt = _paid_one_off(fake_stripe)
    fake_stripe.events.append(evt)
    original = fulfilment.HANDLERS["checkout.session.completed"]
    bug = {"present": True}

    def sometimes_buggy(obj, event, facts):
        if bug["present"]:
            return obj.no_such_attribute  # a dict has no attributes: the kind of slip a bug is
        return original(obj, event, facts)

    monkeypatch.setitem(fulfilment.HANDLERS, "checkout.session.completed", sometimes_buggy)
    response = sf.post_event(client, evt)
    assert response.status_code == 500
    stored = db.session.scalars(select(StripeEvent)).one()
    assert stored.processed_at is None and stored.error == "AttributeError"
    assert _count(Contribution) == 0

    bug["present"] = False
    result = app.test_cli_runner().invoke(
        args=["stripe", "sync", "--since", time.strftime("%Y-%m-%d", time.gmtime())])
    assert result.exit_code == 0, result.output
    assert "1 applied" in result.output
    assert db.session.scalars(select(Contribution.stripe_checkout_session_id)).all() == [
        session["id"]]
    assert db.session.scalars(select(StripeEvent.processed_at)).one() is not None


@pytest.mark.parametrize("bug", [KeyError("x"), TypeError("x"), ValueError("x"),
                                 ZeroDivisionError("x")])
def test_unexpected_errors_are_retried_not_acknowledged(client, fake_stripe, monkeypatch, bug):
    """Errors nobody raised on purpose are never taken for a bad payload: 500, unprocessed."""
    from supportapp.services import fulfilment

    def buggy(obj, event, facts):
        raise bug

    monkeypatch.setitem(fulfilment.HANDLERS, "checkout.session.completed", buggy)
    _, evt = _paid_one_off(fake_stripe)
    assert sf.post_event(client, evt).status_code == 500
    assert db.session.scalars(select(StripeEvent.processed_at)).one() is None


def test_stripe_refusal_is_final(client, fake_stripe):
    """A session Stripe does not know (PaymentsRejected) is final: stored with the error, 200."""
    evt = sf.event("checkout.session.completed", sf.checkout_session())  # never added
    response = sf.post_event(client, evt)
    assert response.status_code == 200 and response.get_json()["result"] == "rejected"
    stored = db.session.scalars(select(StripeEvent)).one()
    assert stored.processed_at is not None and "PaymentsRejected" in stored.error


def test_future_dated_signature_is_400(client):
    """A signature dated more than 5 minutes ahead is refused, like one 5 minutes behind."""
    response = sf.post_event(client, sf.event("invoice.paid", {}),
                             timestamp=int(time.time()) + 301)
    assert response.status_code == 400
    assert _count(StripeEvent) == 0


def test_slightly_future_signature_is_accepted(client):
    """A clock a little ahead (within the tolerance) is not held against Stripe."""
    response = sf.post_event(client, sf.event("customer.created", sf.resource("customer")),
                             timestamp=int(time.time()) + 60)
    assert response.status_code == 200


def test_not_json_is_400(client):
    """A signed body that is not JSON (or uses NaN) is refused."""
    for body in (b"not json", b'{"id": NaN}'):
        response = client.post("/stripe/webhook", data=body,
                               headers={"Stripe-Signature": sf.signature(body)})
        assert response.status_code == 400
    assert _count(StripeEvent) == 0


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=20,
)
_ids = st.one_of(st.none(), st.integers(), st.text(max_size=30), st.just("cs_test_x"))
_objects = st.fixed_dictionaries({}, optional={
    "id": _ids, "amount": _json, "amount_total": st.integers(-5, 10**13) | _json,
    "amount_paid": st.integers(-5, 10**13), "amount_refunded": st.integers(-5, 10**13),
    "currency": st.sampled_from(["usd", "USD", "xx", ""]) | st.text(max_size=4),
    "payment_intent": _ids, "charge": _ids, "status": st.text(max_size=10),
    "metadata": _json, "parent": _json, "items": _json, "created": st.integers(),
    "mode": st.sampled_from(["payment", "subscription", "setup"]),
})
_events = st.fixed_dictionaries({
    "id": _ids,
    "type": st.sampled_from(["checkout.session.completed", "invoice.paid",
                             "invoice.payment_failed", "customer.subscription.updated",
                             "customer.subscription.deleted", "charge.refunded",
                             "charge.dispute.created", "checkout.session.async_payment_failed",
                             "x"]) | st.text(max_size=12),
    "created": st.integers(-10**12, 10**12),
    "data": st.fixed_dictionaries({"object": _objects}) | _json,
})


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(evt=_events)
def test_random_signed_events_never_500(client, fake_stripe, evt):
    """Correctly signed events with random shapes are never answered with a 5xx."""
    assert sf.post_event(client, evt).status_code < 500


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200),
       header=st.text(st.characters(blacklist_characters="\r\n"), max_size=80))
def test_random_bodies_and_headers_are_400(client, body, header):
    """Random bodies with random signature headers are refused with 400 and never stored."""
    response = client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": header})
    assert response.status_code == 400
    assert _count(StripeEvent) == 0


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200) | _json.map(lambda v: json.dumps(v).encode()))
def test_random_signed_bodies_never_500(client, body):
    """Random bodies, correctly signed, are answered 200 (stored) or 400 (not JSON), never 5xx."""
    response = client.post("/stripe/webhook", data=body,
                           headers={"Stripe-Signature": sf.signature(body)})
    assert response.status_code in (200, 400)


def test_write_guard_sees_an_uncommitted_write(app, make_story):
    """The check in front of Stripe calls notices a write in progress, and its end."""
    from tests.write_guard import NetworkInWriteTransaction, assert_no_write_transaction

    story = make_story()
    assert_no_write_transaction("read")  # committed: nothing held
    story.title = "Changed"
    db.session.flush()
    with pytest.raises(NetworkInWriteTransaction):
        assert_no_write_transaction("write")
    db.session.commit()
    assert_no_write_transaction("after commit")

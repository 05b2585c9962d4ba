"""Receipts and refund notices: one per payment, written with the payment, saying the facts."""
import itertools
import logging
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from supportapp.extensions import db
from supportapp.models import Contribution, OutboxMessage, StripeEvent
from supportapp.services import receipts
from supportapp.services.fulfilment import fulfil_checkout
from supportapp.services.stripe_events import receive_event
from tests import stripe_fakes as sf

MONTHLY = {"frequency": "monthly"}
ANNUAL = {"frequency": "annual"}


def _apply(*events):
    return [receive_event(evt) for evt in events]


def _messages(kind=None):
    db.session.rollback()  # what committed, as another process would see it
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return db.session.scalars(query).all()


def _one_off(fake_stripe, **fields):
    session = fake_stripe.add_session(sf.checkout_session(**fields))
    return session, sf.event("checkout.session.completed", session)


def _subscription(fake_stripe, amount=500, metadata=MONTHLY, interval="month"):
    """A paid subscription checkout, its first invoice, and Stripe's subscription now."""
    session = fake_stripe.add_session(sf.checkout_session(
        mode="subscription", amount=amount, metadata=metadata,
        customer_details={"email": "reader@example.com"}))  # as on its invoices
    sub_id = session["subscription"]
    fake_stripe.subscriptions[sub_id] = sf.subscription(sub_id, amount=amount,
                                                        interval=interval)
    first = sf.invoice(sub_id, amount, metadata=metadata, payment_intent=sf.new_id("pi"))
    return session, sub_id, first


def _renewal(sub_id, amount=500, metadata=MONTHLY, **fields):
    return sf.invoice(sub_id, amount, metadata=metadata, reason="subscription_cycle",
                      payment_intent=sf.new_id("pi"), **fields)


def test_one_off_receipt_says_every_fact(app, fake_stripe):
    """A paid one-off gift: one receipt to the payer with amount, date, frequency, the
    newsroom's legal name and address, the note, the reference and the manage link."""
    app.config.update(ORG_LEGAL_NAME="Harbour Ledger Media Society",
                      ORG_ADDRESS="1 Harbour Street, Port Alder, BC V0N 1A0",
                      RECEIPT_NOTE="No goods or services were given for this gift.")
    session, evt = _one_off(fake_stripe, amount=1250, currency="gbp")
    _apply(evt)
    (message,) = _messages()
    row = db.session.scalars(select(Contribution)).one()
    assert (message.kind, message.to_address, message.status) == (
        "receipt", "example@example.com", "queued")
    assert message.subject == "Your receipt from The Harbour Ledger: £12.50"
    today = f"{row.paid_at:%B} {row.paid_at.day}, {row.paid_at.year}"
    for body in (message.text_body, message.html_body):
        for fact in ("£12.50", "One-off", today, session["payment_intent"],
                     "Harbour Ledger Media Society", "1 Harbour Street, Port Alder, BC V0N 1A0",
                     "No goods or services were given for this gift.",
                     "http://127.0.0.1:5000/support/manage"):
            assert fact in body, fact
    assert '<th scope="row"' in message.html_body
    assert 'href="http://127.0.0.1:5000/support/manage"' in message.html_body


def test_no_receipt_note_when_unset(app, fake_stripe):
    """Without SUPPORTAPP_RECEIPT_NOTE the receipt has no note paragraph, just the facts."""
    app.config["RECEIPT_NOTE"] = ""
    _apply(_one_off(fake_stripe)[1])
    (message,) = _messages()
    assert message.text_body.split("Received by:")[1].split("\n\n")[1].startswith(
        "To see your gifts")


def test_manage_link_without_the_manage_page(app, monkeypatch):
    """While the manage page's endpoint is missing, the link is PUBLIC_URL + /support/manage."""
    monkeypatch.setattr(receipts, "MANAGE_ENDPOINT", "no_such_blueprint.no_such_page")
    app.config["PUBLIC_URL"] = "https://news.example/sub"
    assert receipts.manage_url() == "https://news.example/sub/support/manage"


def test_manage_link_follows_the_manage_page_endpoint(app, fake_stripe, monkeypatch):
    """With the endpoint present, receipts link to wherever it is routed, under PUBLIC_URL."""
    monkeypatch.setattr(receipts, "MANAGE_ENDPOINT", "test_manage.page")
    app.add_url_rule("/supporters/manage-gifts", endpoint="test_manage.page",
                     view_func=lambda: "")
    app.config["PUBLIC_URL"] = "https://news.example/sub"
    _apply(_one_off(fake_stripe)[1])
    (message,) = _messages()
    assert "https://news.example/sub/supporters/manage-gifts" in message.text_body
    assert 'href="https://news.example/sub/supporters/manage-gifts"' in message.html_body


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_subscription_start_one_receipt_any_order(fake_stripe, app, order):
    """checkout, invoice.paid and subscription.created in any order, each twice: one
    receipt for the first payment, referencing its invoice, in words per month."""
    session, sub_id, first = _subscription(fake_stripe, amount=800)
    events = [sf.event("checkout.session.completed", session),
              sf.event("invoice.paid", first),
              sf.event("customer.subscription.created", fake_stripe.subscriptions[sub_id])]
    _apply(*[events[i] for i in order], *events)
    (message,) = _messages()
    assert message.key == f"receipt:{first['id']}" and message.to_address == "reader@example.com"
    assert message.subject == "Your receipt from The Harbour Ledger: $8.00 a month"
    assert first["id"] in message.text_body and "Monthly ($8.00 a month)" in message.text_body
    assert "renewed" not in message.text_body


def test_each_renewal_gets_its_own_receipt(fake_stripe, app):
    """The first payment and two renewals: three receipts, each with its own reference and
    amount; delivering the renewals again writes nothing more."""
    session, sub_id, first = _subscription(fake_stripe, metadata=ANNUAL, interval="year",
                                           amount=5000)
    renewals = [_renewal(sub_id, 5000, ANNUAL), _renewal(sub_id, 8000, ANNUAL)]
    events = [sf.event("invoice.paid", invoice) for invoice in (first, *renewals)]
    _apply(sf.event("checkout.session.completed", session), *events, *events)
    messages = _messages()
    assert [m.key for m in messages] == [f"receipt:{i['id']}" for i in (first, *renewals)]
    assert [m.subject.rsplit(": ", 1)[1] for m in messages] == [
        "$50.00 a year", "$50.00 a year", "$80.00 a year"]
    assert ["renewed" in m.text_body for m in messages] == [False, True, True]
    assert all(i["id"] in m.text_body for i, m in zip((first, *renewals), messages,
                                                     strict=True))


def test_failed_payments_write_nothing(fake_stripe, app):
    """A declined renewal and a slow one-off payment that fails: no receipt for either."""
    _, sub_id, _ = _subscription(fake_stripe)
    failed = _renewal(sub_id, status="open")
    session = fake_stripe.add_session(sf.checkout_session(payment_status="unpaid"))
    _apply(sf.event("invoice.payment_failed", failed),
           sf.event("checkout.session.completed", session),
           sf.event("checkout.session.async_payment_failed", session))
    assert db.session.scalars(select(Contribution.status)).all() == ["failed", "failed"]
    # No receipt: only the declined renewal's card-update email (services/recovery.py).
    assert [m.kind for m in _messages()] == ["recovery_failed"]


def test_slow_payment_receipt_when_it_succeeds(fake_stripe, app):
    """A pending payment gets no receipt; the same session, once paid, gets exactly one."""
    session = fake_stripe.add_session(sf.checkout_session(payment_status="unpaid"))
    _apply(sf.event("checkout.session.completed", session))
    assert _messages() == []
    fake_stripe.sessions[session["id"]]["payment_status"] = "paid"
    succeeded = sf.event("checkout.session.async_payment_succeeded", session)
    _apply(succeeded, sf.event("checkout.session.completed", session), succeeded)
    assert [m.key for m in _messages()] == [f"receipt:{session['id']}"]


def test_thank_you_page_and_webhook_write_one_receipt(client, fake_stripe):
    """The thank-you page and the webhook both record the same checkout: one receipt."""
    session, evt = _one_off(fake_stripe)
    assert client.get(f"/contribute/thanks?session_id={session['id']}").status_code == 200
    assert sf.post_event(client, evt).get_json()["result"] == "applied"
    assert client.get(f"/contribute/thanks?session_id={session['id']}").status_code == 200
    fulfil_checkout(session["id"])
    assert [m.key for m in _messages()] == [f"receipt:{session['id']}"]


def test_no_receipt_without_the_payment_committing(client, fake_stripe, monkeypatch):
    """The receipt commits with the payment: when recording the event fails, neither is
    written; Stripe's retry writes both, once."""
    session, evt = _one_off(fake_stripe)
    real_commit = db.session.commit
    calls = {"n": 0}

    def commit_fails_once_applied():
        pending = [o for o in db.session.dirty if isinstance(o, StripeEvent)]
        if pending and pending[0].processed_at is not None and calls["n"] == 0:
            calls["n"] += 1
            raise OperationalError("COMMIT", {}, Exception("database went away"))
        return real_commit()

    monkeypatch.setattr(db.session, "commit", commit_fails_once_applied)
    assert sf.post_event(client, evt).status_code == 500
    assert calls["n"] == 1
    assert _messages() == [] and db.session.scalars(select(Contribution)).all() == []
    assert sf.post_event(client, evt).get_json()["result"] == "applied"
    assert [m.key for m in _messages()] == [f"receipt:{session['id']}"]


def test_rolled_back_handler_leaves_no_receipt(fake_stripe, app):
    """A receipt queued by a handler whose transaction rolls back is gone with it."""
    from supportapp.services.fulfilment import apply_event
    from supportapp.services.stripe_facts import fetch_facts

    _, evt = _one_off(fake_stripe)
    facts = fetch_facts(evt)
    assert apply_event(evt, facts)
    assert db.session.scalars(select(OutboxMessage.kind)).all() == ["receipt"]
    db.session.rollback()
    assert _messages() == []


def test_no_email_no_receipt_and_a_log_line_without_personal_data(fake_stripe, app, caplog):
    """Stripe gave no address: the gift is recorded, no receipt, one log line naming the
    contribution by id."""
    _, evt = _one_off(fake_stripe, customer_details=None, customer_email=None)
    with caplog.at_level(logging.INFO, logger="supportapp.services.receipts"):
        _apply(evt)
    row = db.session.scalars(select(Contribution)).one()
    assert row.status == "paid" and _messages() == []
    assert [r.getMessage() for r in caplog.records] == [
        f"contribution {row.id}: no email address known, no receipt"]


def test_unusable_address_does_not_block_the_payment(fake_stripe, app, caplog):
    """An address that cannot take mail: the payment is still recorded, without a receipt,
    and the address stays out of the log."""
    odd = "Reader <reader@example.com>"
    _, evt = _one_off(fake_stripe, customer_details={"email": odd})
    with caplog.at_level(logging.INFO, logger="supportapp.services.receipts"):
        assert _apply(evt) == ["applied"]
    assert db.session.scalars(select(Contribution.status)).all() == ["paid"]
    assert _messages() == []
    assert "reader@example.com" not in caplog.text and "unusable" in caplog.text


def _refund(session, refunded, amount=1000):
    return sf.event("charge.refunded", {**sf.charge(session["payment_intent"], amount=amount,
                                                    refunded=refunded), "id": "ch_fixed"})


def test_partial_then_full_refund_two_notices(fake_stripe, app):
    """A partial refund then the rest: two notices, each with what it refunded; the same
    refund event delivered again adds none."""
    session, evt = _one_off(fake_stripe, amount=1000)
    partial, full = _refund(session, 400), _refund(session, 1000)
    _apply(evt, partial, partial, full, full)
    notices = _messages("refund_notice")
    assert [m.key for m in notices] == [f"refund:{session['id']}:400",
                                        f"refund:{session['id']}:1000"]
    assert [m.subject for m in notices] == ["Your refund from The Harbour Ledger: $4.00",
                                            "Your refund from The Harbour Ledger: $6.00"]
    assert "Refunded in total: $4.00 of $10.00" in notices[0].text_body
    assert "Refunded in total: $10.00 of $10.00" in notices[1].text_body
    assert "refunded in full" in notices[1].text_body
    assert session["payment_intent"] in notices[1].html_body
    assert len(_messages("receipt")) == 1


def test_full_refund_before_the_partial_one_is_one_notice(fake_stripe, app):
    """Refund events out of order (the full total first): one notice, for all of it."""
    session, evt = _one_off(fake_stripe, amount=1000)
    _apply(evt, _refund(session, 1000), _refund(session, 400))
    assert [m.subject for m in _messages("refund_notice")] == [
        "Your refund from The Harbour Ledger: $10.00"]


def test_refund_before_its_payment(fake_stripe, app):
    """A refund that arrives before its checkout: nothing until the checkout says who paid,
    then one receipt and one notice; the checkout told again adds none."""
    session, evt = _one_off(fake_stripe, amount=800)
    _apply(_refund(session, 800, amount=800))
    assert _messages() == []
    _apply(evt, evt, sf.event("checkout.session.completed", session))
    assert [(m.kind, m.key) for m in _messages()] == [
        ("receipt", f"receipt:{session['id']}"),
        ("refund_notice", f"refund:{session['id']}:800")]


def test_renewal_refund_notice(fake_stripe, app):
    """A refunded renewal: its notice names the invoice and the monthly gift."""
    _, sub_id, first = _subscription(fake_stripe)
    renewal = _renewal(sub_id)
    intent = renewal["payments"]["data"][0]["payment"]["payment_intent"]
    _apply(sf.event("invoice.paid", first), sf.event("invoice.paid", renewal),
           sf.event("charge.refunded", sf.charge(intent, amount=500, refunded=500)))
    (notice,) = _messages("refund_notice")
    assert notice.key == f"refund:{renewal['id']}:500"
    assert renewal["id"] in notice.text_body and "Monthly ($5.00 a month)" in notice.text_body


def test_dispute_writes_nothing_more(fake_stripe, app):
    """A dispute on a receipted gift is not a refund: no notice."""
    session, evt = _one_off(fake_stripe)
    charge = sf.charge(session["payment_intent"])
    _apply(evt, sf.event("charge.dispute.created",
                         sf.dispute(charge["id"], charge["payment_intent"])))
    assert [m.kind for m in _messages()] == ["receipt"]


def test_receipt_date_is_the_payment_date(fake_stripe, app):
    """A renewal paid on a past day is receipted with that day, not the day it arrived."""
    _, sub_id, _ = _subscription(fake_stripe)
    renewal = _renewal(sub_id)
    paid = datetime(2026, 3, 14, 12, tzinfo=UTC)
    renewal["status_transitions"]["paid_at"] = int(paid.timestamp())
    _apply(sf.event("invoice.paid", renewal, created=int(time.time())))
    (message,) = _messages()
    assert "March 14, 2026" in message.text_body


def test_merged_rows_keep_one_receipt(fake_stripe, app):
    """A dispute seen first by its charge alone, then the checkout, then a refund naming both:
    the two rows merge into the older one, and the gift still has one receipt."""
    session, evt = _one_off(fake_stripe, amount=1000)
    charge = {**sf.charge(session["payment_intent"], amount=1000), "id": "ch_merged"}
    _apply(sf.event("charge.dispute.created", sf.dispute("ch_merged", None, amount=1000)), evt)
    assert len(db.session.scalars(select(Contribution)).all()) == 2
    _apply(sf.event("charge.refunded", {**charge, "amount_refunded": 300}))
    (row,) = db.session.scalars(select(Contribution)).all()
    assert row.stripe_checkout_session_id == session["id"]
    assert [(m.kind, m.key) for m in _messages()] == [
        ("receipt", f"receipt:{session['id']}"),
        ("refund_notice", f"refund:{session['id']}:300")]

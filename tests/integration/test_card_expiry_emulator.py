"""The card a recurring gift renews on, kept from what the local Stripe emulator sends: the
card typed at Checkout, a new card in the portal, a card saved by Checkout in setup mode."""
import threading
from datetime import timedelta

import requests
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import RecurringSupport, StripeEvent
from tests.integration.conftest import CARD_OK


def _support(session_id):
    db.session.rollback()  # see what the live server committed
    return db.session.scalars(select(RecurringSupport).filter_by(
        stripe_checkout_session_id=session_id)).one()


def _card(support):
    return support.card_exp_month, support.card_exp_year


def _type_card(url, expiry, **fields):
    """Submit a hosted card form (Checkout or the portal's) as a reader's browser does."""
    answer = requests.post(url, data={"card_number": CARD_OK, "expiry": expiry, "cvc": "123",
                                      **fields}, allow_redirects=False, timeout=30)
    assert answer.status_code == 303, answer.text[:500]


def test_the_card_of_a_gift_follows_every_change(live):
    session_id = live.start_checkout(frequency="monthly", amount="5")
    _type_card(f"{live.emulator.url}/c/pay/{session_id}", "03 / 30", email="reader@example.com")
    live.settle()
    support = _support(session_id)
    assert _card(support) == (3, 2030)

    # The portal's card form: a new default card for the customer and its subscription.
    portal = live.stripe.v1.billing_portal.sessions.create(params={
        "customer": support.stripe_customer_id, "return_url": f"{live.url}/support",
        "flow_data": {"type": "payment_method_update"}})
    _type_card(f"{live.emulator.url}/p/session/{portal.id}/payment_method", "11/31")
    live.settle()
    assert _card(_support(session_id)) == (11, 2031)

    # Checkout in setup mode, naming the subscription as Stripe's guide does: its card.
    setup = live.stripe.v1.checkout.sessions.create(params={
        "mode": "setup", "customer": support.stripe_customer_id, "currency": "usd",
        "success_url": f"{live.url}/support?card={{CHECKOUT_SESSION_ID}}",
        "setup_intent_data": {"metadata": {
            "subscription_id": support.stripe_subscription_id}}})
    _type_card(f"{live.emulator.url}/c/pay/{setup.id}", "05/32", email="reader@example.com")
    live.settle()
    assert _card(_support(session_id)) == (5, 2032)
    db.session.rollback()
    failed = db.session.scalars(select(StripeEvent.type).where(
        StripeEvent.error.is_not(None))).all()
    assert failed == []  # every event applied, the setup session's too

    # The app makes it the subscription's card; renewals then agree.
    method = live.stripe.v1.checkout.sessions.retrieve(
        setup.id, params={"expand": ["setup_intent"]}).setup_intent.payment_method
    live.stripe.v1.subscriptions.update(support.stripe_subscription_id,
                                        params={"default_payment_method": method})
    assert live.control(f"/subscriptions/{support.stripe_subscription_id}/advance"
                        ).json()["paid"] is True
    live.settle()
    assert _card(_support(session_id)) == (5, 2032)


def test_an_annual_gift_from_the_emulator_gets_its_notices(live, app, mail_server):
    """An annual gift paid on the emulator with a card ending this December: a year on (the
    app's clock moved), the worker writes and sends the card-expiring email a month before
    the renewal, then the renewal notice a week before it, each once."""
    from supportapp.services.clock import current_time, move_clock
    from supportapp.services.worker import run_worker

    session_id = live.start_checkout(frequency="annual", amount="60")
    this_december = f"12/{current_time(app).year % 100:02d}"
    _type_card(f"{live.emulator.url}/c/pay/{session_id}", this_december,
               email="reader@example.com")
    live.settle()
    support = _support(session_id)
    renews = support.current_period_end
    assert support.interval == "year" and renews > current_time(app) + timedelta(days=360)

    def notices():
        return [m for m in mail_server.messages() if "receipt" not in m["Subject"]]

    stop = threading.Event()
    run_worker(stop, once=True)
    assert notices() == []  # a year ahead: nothing due (the receipt went)
    move_clock(renews - timedelta(days=20) - current_time(app), app)
    run_worker(stop, once=True)
    run_worker(stop, once=True)
    (card,) = notices()
    assert card["Subject"] == "The card for your gift to The Harbour Ledger has expired"
    move_clock(timedelta(days=15), app)
    run_worker(stop, once=True)
    run_worker(stop, once=True)
    card, notice = notices()
    assert notice["Subject"].startswith("Your annual gift to The Harbour Ledger renews on")
    text = " ".join(notice.get_body(("plain",)).get_content().split())
    assert "$60.00" in text and "expires at the end of December" in text

"""The card a recurring gift renews on: its expiry read from Stripe's answers and kept."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import RecurringSupport
from supportapp.services import card_expiry
from supportapp.services.card_expiry import CardExpiry, record_cards
from supportapp.services.stripe_events import receive_event
from tests import stripe_fakes as sf


@pytest.mark.parametrize("month, year, expected", [
    (3, 2027, CardExpiry(2027, 3)), (12, 2034, CardExpiry(2034, 12)),
    (1, 2000, CardExpiry(2000, 1)), (12, 2099, CardExpiry(2099, 12)),
    (0, 2027, None), (13, 2027, None), (3, 27, None), (3, 2100, None), (3, 1999, None),
    ("3", 2027, None), (3, "2027", None), (True, 2027, None), (3.0, 2027, None),
    (None, 2027, None), (3, None, None),
])
def test_only_a_cards_month_and_year_make_an_expiry(month, year, expected):
    assert card_expiry.card_expiry(month, year) == expected


def test_a_card_works_to_the_end_of_its_month():
    march, december = CardExpiry(2027, 3), CardExpiry(2027, 12)
    assert march.ends_at == datetime(2027, 4, 1, tzinfo=UTC)
    assert december.ends_at == datetime(2028, 1, 1, tzinfo=UTC)
    assert not march.expires_before(datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC))
    assert march.expires_before(datetime(2027, 4, 1, tzinfo=UTC))
    assert (march.key, march.words, december.key) == ("2027-03", "March 2027", "2027-12")
    assert march.index + 9 == december.index and march < december


def _card(month, year):
    return {"id": sf.new_id("pm"), "object": "payment_method", "type": "card",
            "card": {"exp_month": month, "exp_year": year, "last4": "4242"}}


def test_the_subscriptions_own_card_comes_before_the_customers():
    customer = {"id": "cus_1", "invoice_settings": {"default_payment_method": _card(1, 2030)}}
    own = {"id": "sub_1", "default_payment_method": _card(5, 2029), "customer": customer}
    assert card_expiry.of_subscription(own) == CardExpiry(2029, 5)
    assert card_expiry.of_subscription({**own, "default_payment_method": None}) \
        == CardExpiry(2030, 1)
    # An id that was not expanded says nothing, and the customer's card is not its card.
    assert card_expiry.of_subscription({**own, "default_payment_method": "pm_1"}) is None
    assert card_expiry.of_subscription({"default_payment_method": None,
                                        "customer": "cus_1"}) is None
    assert card_expiry.cards_of_subscription({**own, "id": "<bad>"}) == {}
    sepa = {"id": "pm_2", "type": "sepa_debit", "sepa_debit": {"last4": "3000"}}
    assert card_expiry.of_subscription({**own, "default_payment_method": sepa}) is None


def _support():
    return db.session.scalars(select(RecurringSupport)).one()


def _subscription(fake_stripe, card=None, customer=None, **fields):
    """A subscription the fake knows, renewing on `card` (a PaymentMethod it also knows)."""
    sub_id = sf.new_id("sub")
    sub = sf.subscription(sub_id, default_payment_method=card["id"] if card else None,
                          customer=customer or sf.new_id("cus"), **fields)
    fake_stripe.subscriptions[sub_id] = sub
    fake_stripe.add_object(sub)
    return sub


def test_checkout_of_a_recurring_gift_records_its_card(fake_stripe, app):
    """checkout.session.completed: the session is asked for with its subscription's card."""
    card = fake_stripe.add_card(3, 2027)
    sub = _subscription(fake_stripe, card)
    session = sf.checkout_session(mode="subscription", metadata={"frequency": "monthly"})
    fake_stripe.add_session({**session, "subscription": sub["id"]})
    assert receive_event(sf.event("checkout.session.completed", session)) == "applied"
    support = _support()
    assert (support.card_exp_month, support.card_exp_year) == (3, 2027)
    assert fake_stripe.expanded[-1] == card_expiry.CHECKOUT_EXPAND


def test_renewals_and_changes_keep_the_card_up_to_date(fake_stripe, app):
    """invoice.paid, then a new card on the subscription (customer.subscription.updated)."""
    old = fake_stripe.add_card(3, 2027)
    sub = _subscription(fake_stripe, old)
    receive_event(sf.event("invoice.paid", sf.invoice(sub["id"], reason="subscription_cycle")))
    assert (_support().card_exp_month, _support().card_exp_year) == (3, 2027)
    assert fake_stripe.expanded[-1] == card_expiry.SUBSCRIPTION_EXPAND

    new = fake_stripe.add_card(11, 2031)
    sub["default_payment_method"] = new["id"]
    receive_event(sf.event("customer.subscription.updated", sub))
    db.session.expire_all()
    assert (_support().card_exp_month, _support().card_exp_year) == (11, 2031)


def test_a_subscription_without_a_card_of_its_own_renews_on_the_customers(fake_stripe, app):
    card = fake_stripe.add_card(7, 2028)
    customer = fake_stripe.add_object(sf.resource(
        "customer", id=sf.new_id("cus"), invoice_settings={"default_payment_method": card["id"]}))
    sub = _subscription(fake_stripe, customer=customer["id"])
    receive_event(sf.event("invoice.payment_failed",
                           sf.invoice(sub["id"], reason="subscription_cycle", status="open")))
    assert (_support().card_exp_month, _support().card_exp_year) == (7, 2028)


def test_an_answer_without_the_card_forgets_nothing(fake_stripe, app):
    """Stripe's answer without a usable card (unexpanded, malformed) leaves the expiry."""
    card = fake_stripe.add_card(3, 2027)
    sub = _subscription(fake_stripe, card)
    receive_event(sf.event("customer.subscription.updated", sub))
    sub["default_payment_method"] = "pm_not_expanded"
    receive_event(sf.event("customer.subscription.updated", sub))
    card["card"]["exp_month"] = "03"
    sub["default_payment_method"] = card["id"]
    receive_event(sf.event("customer.subscription.updated", sub))
    db.session.expire_all()
    assert (_support().card_exp_month, _support().card_exp_year) == (3, 2027)


def _setup_session(card, customer, intent_metadata=None, metadata=None, status="complete"):
    intent = sf.resource("setup_intent", id=sf.new_id("seti"), customer=customer,
                         payment_method=card["id"], status="succeeded",
                         metadata=intent_metadata or {})
    session = sf.checkout_session(mode="setup", status=status,
                                  payment_status="no_payment_required", amount=None,
                                  setup_intent=intent["id"], metadata=metadata or {})
    return intent, {**session, "customer": customer}


@pytest.mark.parametrize("where", ["setup_intent", "session"])
def test_a_card_saved_for_a_named_subscription_is_its_card(fake_stripe, app, where):
    """Checkout in setup mode (Stripe's "update payment details"): the subscription named in
    the metadata (`subscription_id`) renews on the saved card."""
    sub = _subscription(fake_stripe, fake_stripe.add_card(3, 2027))
    receive_event(sf.event("customer.subscription.updated", sub))
    card = fake_stripe.add_card(9, 2032, customer=sub["customer"])
    named = {"subscription_id": sub["id"]}
    intent, session = _setup_session(card, sub["customer"],
                                     **{"intent_metadata" if where == "setup_intent"
                                        else "metadata": named})
    fake_stripe.add_object(intent)
    fake_stripe.add_session(session)
    assert receive_event(sf.event("checkout.session.completed", session)) == "applied"
    db.session.expire_all()
    assert (_support().card_exp_month, _support().card_exp_year) == (9, 2032)


def test_a_card_saved_for_no_known_subscription_changes_nothing(fake_stripe, app):
    """No subscription named, one that is not ours, or a session not complete: no change."""
    sub = _subscription(fake_stripe, fake_stripe.add_card(3, 2027))
    receive_event(sf.event("customer.subscription.updated", sub))
    card = fake_stripe.add_card(9, 2032, customer=sub["customer"])
    for metadata, status in (({}, "complete"), ({"subscription_id": "sub_elsewhere"}, "complete"),
                             ({"subscription_id": sub["id"]}, "open")):
        intent, session = _setup_session(card, sub["customer"], metadata, status=status)
        fake_stripe.add_object(intent)
        fake_stripe.add_session(session)
        # A session that saved a card records no payment, and is no malformed event either.
        assert receive_event(sf.event("checkout.session.completed", session)) == "applied"
    db.session.expire_all()
    assert (_support().card_exp_month, _support().card_exp_year) == (3, 2027)


def test_a_card_attached_to_a_customer_refreshes_their_gifts(fake_stripe, app):
    """payment_method.attached: each live gift of the customer is asked about (not the
    cancelled one, not another customer's) and renews on the card Stripe names now."""
    customer = sf.new_id("cus")
    live = _subscription(fake_stripe, fake_stripe.add_card(3, 2027), customer=customer)
    ended = _subscription(fake_stripe, fake_stripe.add_card(3, 2027), customer=customer,
                          status="canceled")
    other = _subscription(fake_stripe, fake_stripe.add_card(3, 2027))
    for sub in (live, ended, other):
        receive_event(sf.event("customer.subscription.updated", sub))
    new = fake_stripe.add_card(6, 2030, customer=customer)
    for sub in (live, ended, other):
        sub["default_payment_method"] = new["id"]
    asked = len(fake_stripe.expanded)
    assert receive_event(sf.event("payment_method.attached", new)) == "applied"
    assert len(fake_stripe.expanded) == asked + 1  # the live gift only
    db.session.expire_all()
    cards = {s.stripe_subscription_id: (s.card_exp_month, s.card_exp_year)
             for s in db.session.scalars(select(RecurringSupport))}
    assert cards == {live["id"]: (6, 2030), ended["id"]: (3, 2027), other["id"]: (3, 2027)}


def test_a_new_default_card_of_the_customer_refreshes_their_gifts(fake_stripe, app):
    """customer.updated asks Stripe only when the default card changed."""
    card = fake_stripe.add_card(3, 2027)
    customer = fake_stripe.add_object(sf.resource(
        "customer", id=sf.new_id("cus"), invoice_settings={"default_payment_method": card["id"]}))
    sub = _subscription(fake_stripe, customer=customer["id"])
    receive_event(sf.event("customer.subscription.updated", sub))
    asked = len(fake_stripe.expanded)
    renamed = sf.event("customer.updated", customer)
    renamed["data"]["previous_attributes"] = {"name": "Old name"}
    assert receive_event(renamed) == "applied"
    assert len(fake_stripe.expanded) == asked

    new = fake_stripe.add_card(2, 2031, customer=customer["id"])
    customer["invoice_settings"]["default_payment_method"] = new["id"]
    changed = sf.event("customer.updated", customer)
    changed["data"]["previous_attributes"] = {
        "invoice_settings": {"default_payment_method": card["id"]}}
    assert receive_event(changed) == "applied"
    db.session.expire_all()
    assert (_support().card_exp_month, _support().card_exp_year) == (2, 2031)


def test_an_older_answer_never_overwrites_a_newer_one(app):
    """Two deliveries racing: the card from an answer older than the support's state stays
    out; a subscription that is not ours is skipped."""
    now = datetime.now(UTC)
    support = RecurringSupport(stripe_subscription_id="sub_1", amount_minor=500,
                               currency="USD", status="active", status_at=now,
                               card_exp_month=3, card_exp_year=2027)
    db.session.add(support)
    db.session.commit()
    assert record_cards({"sub_1": CardExpiry(2030, 1)}, now - timedelta(seconds=1)) == 0
    assert record_cards({"sub_other": CardExpiry(2030, 1)}, now) == 0
    assert (support.card_exp_month, support.card_exp_year) == (3, 2027)
    assert record_cards({"sub_1": CardExpiry(2030, 1)}, now) == 1
    assert (support.card_exp_month, support.card_exp_year) == (1, 2030)

"""/contribute/thanks and /contribute/manage: what the reader sees after Checkout."""
import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Contribution, RecurringSupport
from supportapp.services.supporter import SUPPORTER_COOKIE, read_supporter_token
from tests import stripe_fakes as sf


def _supporter_claim(app, client):
    cookie = client.get_cookie(SUPPORTER_COOKIE)
    return cookie, read_supporter_token(app.config["SECRET_KEY"], cookie.value if cookie else None)


def test_paid_one_off_thanks_records_and_sets_cookie(app, client, fake_stripe):
    """A paid one-off session: thank-you with amount, the contribution recorded, cookie set."""
    session = fake_stripe.add_session(sf.checkout_session(amount=1250, currency="gbp"))
    response = client.get(f"/contribute/thanks?session_id={session['id']}")
    assert response.status_code == 200
    text = response.data.decode()
    assert "Thank you!" in text and "£12.50" in text and "one-off" in text
    assert session["payment_intent"] in text  # the receipt line's reference
    assert "Manage your recurring contribution" not in text
    row = db.session.scalars(select(Contribution)).one()
    assert (row.amount_minor, row.currency, row.status) == (1250, "GBP", "paid")
    cookie, claim = _supporter_claim(app, client)
    assert claim.frequency == "one_off"
    assert cookie.http_only and cookie.same_site == "Lax" and cookie.secure


def test_thanks_twice_records_once(client, fake_stripe):
    """Reloading the thank-you page does not record the gift again."""
    session = fake_stripe.add_session(sf.checkout_session())
    for _ in range(2):
        assert client.get(f"/contribute/thanks?session_id={session['id']}").status_code == 200
    assert len(db.session.scalars(select(Contribution)).all()) == 1


def test_monthly_thanks_offers_portal(app, client, fake_stripe):
    """A paid monthly gift: the recurring support is recorded and the portal is offered."""
    session = fake_stripe.add_session(sf.checkout_session(
        mode="subscription", amount=500, metadata={"frequency": "monthly"}))
    text = client.get(f"/contribute/thanks?session_id={session['id']}").data.decode()
    assert "monthly" in text and "a month" in text
    assert "Manage your recurring contribution" in text
    support = db.session.scalars(select(RecurringSupport)).one()
    assert support.stripe_subscription_id == session["subscription"]
    assert support.status == "active" and support.interval == "month"
    assert db.session.scalars(select(Contribution)).all() == []  # counted from invoice.paid
    _, claim = _supporter_claim(app, client)
    assert claim.subscription_id == session["subscription"]
    response = client.post("/contribute/manage")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://billing.stripe.com/")
    assert fake_stripe.portals[0][0] == session["customer"]


def test_manage_without_gift_goes_home(client, fake_stripe):
    """Without a recurring gift in this browser, manage explains where to go instead."""
    response = client.post("/contribute/manage")
    assert response.status_code == 303 and fake_stripe.portals == []


@pytest.mark.parametrize(("status", "payment_status", "words"), [
    ("open", "unpaid", "was not completed"),
    ("expired", "unpaid", "timed out"),
    ("complete", "unpaid", "on its way"),
])
def test_unpaid_session_is_not_a_thank_you(client, fake_stripe, status, payment_status, words):
    """An unfinished, expired or still-settling session shows its state and sets no cookie."""
    session = fake_stripe.add_session(sf.checkout_session(status=status,
                                                          payment_status=payment_status))
    text = client.get(f"/contribute/thanks?session_id={session['id']}").data.decode()
    assert words in text and "Thank you!" not in text
    assert client.get_cookie(SUPPORTER_COOKIE) is None
    assert db.session.scalars(select(Contribution.status)).all() == (
        ["pending"] if status == "complete" else [])


@pytest.mark.parametrize(("session_id", "code"), [
    ("", 400), ("nonsense", 400), ("cs_test_<script>", 400), ("cs_test_" + "a" * 300, 400),
    ("cs_test_unknown123", 404),
])
def test_bad_session_ids(client, fake_stripe, session_id, code):
    """A malformed session id is a 400 page, an unknown one a 404 page, never a 500."""
    response = client.get("/contribute/thanks", query_string={"session_id": session_id})
    assert response.status_code == code
    assert b"masthead" in response.data


def test_thanks_when_stripe_down(client, fake_stripe):
    """Stripe unreachable on the thank-you page: a calm 503, nothing recorded as paid."""
    session = fake_stripe.add_session(sf.checkout_session())
    fake_stripe.unavailable = True
    response = client.get(f"/contribute/thanks?session_id={session['id']}")
    assert response.status_code == 503
    assert db.session.scalars(select(Contribution)).all() == []

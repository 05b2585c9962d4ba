"""/contribute/thanks and /contribute/manage: what the reader sees after Checkout."""
import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Contribution, RecurringSupport
from supportapp.services.checkout_binding import CHECKOUT_COOKIE, add_session
from supportapp.services.supporter import SUPPORTER_COOKIE, read_supporter_token
from tests import stripe_fakes as sf


def _started_here(app, client, session):
    """Give the client the cookie that POST /contribute sets when it starts a session."""
    value = add_session(app.config["SECRET_KEY"], None, session["id"])
    client.set_cookie(CHECKOUT_COOKIE, value, path="/contribute")
    return session


def _supporter_claim(app, client):
    cookie = client.get_cookie(SUPPORTER_COOKIE)
    return cookie, read_supporter_token(app.config["SECRET_KEY"], cookie.value if cookie else None)


def test_paid_one_off_thanks_records_and_sets_cookie(app, client, fake_stripe):
    """A paid one-off session: thank-you with amount, the contribution recorded, cookie set."""
    session = _started_here(app, client, fake_stripe.add_session(
        sf.checkout_session(amount=1250, currency="gbp")))
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
    session = _started_here(app, client, fake_stripe.add_session(sf.checkout_session(
        mode="subscription", amount=500, metadata={"frequency": "monthly"})))
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


def test_manage_without_gift_leads_to_sign_in(client, fake_stripe):
    """Without a recurring gift in this browser, manage leads to the emailed sign-in link's
    form, and no portal session is made."""
    response = client.post("/contribute/manage")
    assert response.status_code == 303 and fake_stripe.portals == []
    assert response.headers["Location"].endswith("/support/manage")


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


def test_thanks_in_another_browser_shows_nothing_personal(app, client, fake_stripe):
    """Someone else opening a monthly donor's thank-you URL (from a log, a shared link) gets
    a thank-you without the email, amount or reference, no portal and no supporter cookie."""
    session = fake_stripe.add_session(sf.checkout_session(
        mode="subscription", amount=500, metadata={"frequency": "monthly"},
        customer_details={"email": "donor@example.com"}))
    response = client.get(f"/contribute/thanks?session_id={session['id']}")
    text = response.data.decode()
    assert response.status_code == 200 and "Thank you!" in text
    assert "donor@example.com" not in text and "$5.00" not in text
    assert session["subscription"] not in text
    assert "Manage your recurring contribution" not in text
    assert client.get_cookie(SUPPORTER_COOKIE) is None
    assert client.post("/contribute/manage").status_code == 303 and fake_stripe.portals == []
    # The gift is recorded all the same.
    assert db.session.scalars(select(RecurringSupport.status)).all() == ["active"]


def test_forged_or_foreign_checkout_cookie_is_not_trusted(app, client, fake_stripe):
    """A cookie signed with another key, or vouching for another session, opens nothing."""
    session = fake_stripe.add_session(sf.checkout_session(
        customer_details={"email": "donor@example.com"}))
    for value in (add_session("another-secret", None, session["id"]),
                  add_session(app.config["SECRET_KEY"], None, "cs_test_other")):
        client.set_cookie(CHECKOUT_COOKIE, value, path="/contribute")
        text = client.get(f"/contribute/thanks?session_id={session['id']}").data.decode()
        assert "Thank you!" in text and "donor@example.com" not in text


def test_the_browser_that_started_checkout_sees_its_details(app, client, fake_stripe):
    """POST /contribute vouches for its session in this browser only (HttpOnly, Lax,
    path /contribute), and keeps the last few sessions it started."""
    ids = []
    for amount in ("5", "6", "7"):
        response = client.post("/contribute", data={
            "frequency": "one_off", "amount": amount, "currency": "USD",
            "email": "reader@example.com", "nonce": "n" * 20 + amount})
        assert response.status_code == 303
        ids.append(fake_stripe.created[-1][0]["id"])
    cookie = client.get_cookie(CHECKOUT_COOKIE, path="/contribute")
    assert cookie.http_only and cookie.same_site == "Lax" and cookie.path == "/contribute"
    for session_id, amount in zip(ids, (500, 600, 700), strict=True):
        fake_stripe.add_session({**sf.checkout_session(
            amount=amount, customer_details={"email": "reader@example.com"}), "id": session_id})
        text = client.get(f"/contribute/thanks?session_id={session_id}").data.decode()
        assert "reader@example.com" in text
    assert app.test_client().get(f"/contribute/thanks?session_id={ids[0]}").status_code == 200


def test_thanks_asks_stripe_once_per_session(app, client, fake_stripe, monkeypatch):
    """Reloads and repeated unknown ids reuse Stripe's answer instead of asking again."""
    from supportapp.services import payments

    calls = []
    real = payments.retrieve_checkout_session
    monkeypatch.setattr(payments, "retrieve_checkout_session",
                        lambda session_id: calls.append(session_id) or real(session_id))
    session = fake_stripe.add_session(sf.checkout_session())
    for _ in range(3):
        assert client.get(f"/contribute/thanks?session_id={session['id']}").status_code == 200
        assert client.get("/contribute/thanks?session_id=cs_test_nosuch").status_code == 404
    assert calls == [session["id"], "cs_test_nosuch"]


def test_thanks_is_rate_limited(database_url, fake_stripe):
    """/contribute/thanks calls Stripe for any well-formed id, so each address is limited."""
    from tests.conftest import make_app

    limited = make_app(database_url, RATELIMIT_ENABLED=True, THANKS_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    codes = [client.get(f"/contribute/thanks?session_id=cs_test_r{i}").status_code
             for i in range(5)]
    assert codes == [404, 404, 404, 429, 429]

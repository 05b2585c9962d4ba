"""The appeal's one-click button: POST /contribute/start straight to Stripe's page, protected
by where the POST came from, since a story page holds no session token."""
import pytest
from lxml import html as lxml_html

from supportapp.services.checkout_binding import CHECKOUT_COOKIE
from tests.conftest import make_app

SITE = "http://localhost"
CHOICE = {"frequency": "monthly", "amount_monthly": "10", "amount_one_off": "25",
          "amount_annual": "100", "currency": "USD", "shown_currency": "USD",
          "story": "harbour-dredging", "appeal": "4", "variant": "9"}


def _start(client, data=None, headers=None, **extra):
    return client.post("/contribute/start", data={**CHOICE, **(data or {})},
                       headers={"Origin": SITE, **(headers or {})} if headers is not False
                       else {}, **extra)


def _errors(response):
    page = lxml_html.fromstring(response.data)
    return page.xpath("//div[@class='contribute__errors']//li//text()")


def test_one_click_needs_no_session_token(database_url, fake_stripe):
    """With CSRF protection on (as in production), the appeal's POSTs carry no token and
    still work: their protection is the origin check."""
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert _start(client).status_code == 303 and len(fake_stripe.created) == 1
    assert client.post("/appeal/later", data={"via": "script"}).status_code == 204


def test_one_click_goes_straight_to_stripe(client, fake_stripe):
    """From this site: one POST creates the session and redirects to Stripe's page, which asks
    for the email; attribution rides along; the browser is vouched for its thank-you page."""
    client.set_cookie("sa_rid", "r" * 22)
    response = _start(client)
    assert response.status_code == 303
    params, _key = fake_stripe.created[0]
    assert response.headers["Location"] == params["url"]
    assert params["mode"] == "subscription" and "customer_email" not in params
    assert params["line_items"][0]["price_data"]["unit_amount"] == 1000
    assert params["metadata"] == {"frequency": "monthly", "story": "harbour-dredging",
                                  "appeal": "4", "variant": "9", "reader": "r" * 22,
                                  "amount_chosen": "1000"}
    assert params["cancel_url"].startswith(f"{SITE}/contribute?cancelled=1&")
    assert client.get_cookie(CHECKOUT_COOKIE, path="/contribute") is not None


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "same-origin"},
    {"Origin": "https://partner.example", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "HTTPS://Partner.Example/"},
])
def test_allowed_origins(database_url, fake_stripe, headers):
    """Sec-Fetch-Site same-origin (no Origin), or an Origin listed in
    SUPPORTAPP_EMBED_ORIGINS, is taken."""
    app = make_app(database_url, EMBED_ORIGINS=("https://partner.example",))
    response = app.test_client().post("/contribute/start", data=CHOICE, headers=headers)
    assert response.status_code == 303 and len(fake_stripe.created) == 1


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://localhost.evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {},
])
def test_other_origins_get_the_prefilled_form(client, fake_stripe, headers):
    """A forged cross-site POST, or one with neither header, creates nothing: it is sent to
    /contribute with the choice filled in (nothing personal in that URL)."""
    response = client.post("/contribute/start", data=CHOICE, headers=headers)
    assert response.status_code == 303 and fake_stripe.created == []
    location = response.headers["Location"]
    assert location.startswith("/contribute?")
    for part in ("frequency=monthly", "amount=10", "currency=USD", "story=harbour-dredging",
                 "appeal=4", "variant=9"):
        assert part in location
    page = lxml_html.fromstring(client.get(location).data)
    assert page.xpath("string(//input[@name='amount_monthly'][@checked]/@value)") == "10"
    assert not page.xpath("//*[@class='contribute__errors']")


@pytest.mark.parametrize(("data", "message"), [
    ({"amount_monthly": "0.50"}, "The smallest contribution is $1."),
    ({"amount_monthly": "10000.01"}, "The largest contribution we can take online is $10,000."),
    ({"amount_custom": "1e9"}, "Enter the amount as a number, for example 5 or 12.50."),
    ({"currency": "JPY", "shown_currency": "JPY"}, "Choose one of USD, EUR, GBP, CAD, AUD."),
    ({"frequency": "weekly"}, "Choose one-off, monthly or annual."),
])
def test_tampered_choice_gets_the_forms_messages(client, fake_stripe, data, message):
    """An amount outside the limits, or a made-up currency or frequency: the same message as
    on /contribute, a 400, and no session."""
    response = _start(client, data)
    assert response.status_code == 400 and fake_stripe.created == []
    assert message in _errors(response)


def test_currency_switched_without_script_asks_again(client, fake_stripe):
    """The buttons showed dollars but the reader picked euros (no script to redraw them): the
    form in euros, to choose again; nothing is charged in a currency the reader did not see."""
    response = _start(client, {"currency": "EUR"})
    assert response.status_code == 303 and fake_stripe.created == []
    assert "currency=EUR" in response.headers["Location"]


def test_honeypot_and_captcha_still_apply(database_url, fake_stripe):
    """A filled honeypot, or a CAPTCHA verifier that says no, creates nothing (400)."""
    app = make_app(database_url)
    assert _start(app.test_client(), {"website": "spam"}).status_code == 400
    refusing = make_app(database_url, CAPTCHA_VERIFIER=lambda form, address: False)
    assert _start(refusing.test_client()).status_code == 400
    assert fake_stripe.created == []


def test_double_click_makes_one_session(client, fake_stripe):
    """Two clicks with the page's nonce, or two without one within minutes: one session."""
    first = _start(client, {"nonce": "a" * 36})
    second = _start(client, {"nonce": "a" * 36})
    assert first.headers["Location"] == second.headers["Location"]
    third, fourth = _start(client, {"amount_monthly": "20"}), _start(client,
                                                                      {"amount_monthly": "20"})
    assert third.headers["Location"] == fourth.headers["Location"]
    assert len(fake_stripe.created) == 2


def test_counts_against_the_checkout_limit(database_url, fake_stripe):
    """The appeal's button and /contribute share one per-address checkout limit."""
    app = make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                   CHECKOUT_RATE_LIMIT="2 per minute")
    client = app.test_client()
    codes = [_start(client, {"amount_monthly": str(5 + n)}).status_code for n in range(3)]
    assert codes == [303, 303, 429] and len(fake_stripe.created) == 2


def test_later_sets_an_httponly_cookie(client):
    """"Maybe later" is answered by the server with an HttpOnly cookie, then back to the
    story (or a 204 for the script); a `next` off this site goes to the front page."""
    response = client.post("/appeal/later", data={"next": "/stories/harbour-dredging"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/stories/harbour-dredging"
    cookie = client.get_cookie("sa_later")
    assert cookie.value == "1" and cookie.http_only and cookie.same_site == "Lax"
    assert 6 * 86400 < (cookie.expires.timestamp() - __import__("time").time()) <= 7 * 86400
    assert client.post("/appeal/later", data={"via": "script"}).status_code == 204
    away = client.post("/appeal/later", data={"next": "//evil.example/x"})
    assert away.headers["Location"] == "/"

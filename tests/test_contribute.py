"""/contribute: the form, its checks, and the hand-off to Stripe Checkout."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from tests.conftest import make_app

VALID = {"frequency": "one_off", "amount": "5", "currency": "USD",
         "email": "reader@example.com", "nonce": "n" * 24}


def _page(response):
    return lxml_html.fromstring(response.data)


def test_get_prefills_from_query(client, fake_stripe):
    """A link with frequency, amount, currency and story opens the form with them chosen."""
    page = _page(client.get("/contribute?frequency=annual&amount=12.50&currency=eur&story=s-1"))
    assert page.xpath("string(//input[@name='frequency'][@checked]/@value)") == "annual"
    assert page.xpath("string(//input[@name='amount_custom']/@value)") == "12.50"
    assert page.xpath("string(//select[@name='currency']/option[@selected]/@value)") == "EUR"
    assert page.xpath("string(//input[@name='story']/@value)") == "s-1"
    assert fake_stripe.created == []


def test_preset_amount_is_checked(client, fake_stripe):
    """An amount that is one of the presets checks that preset rather than filling 'other'."""
    page = _page(client.get("/contribute?frequency=monthly&amount=5&currency=USD"))
    assert page.xpath("string(//input[@name='amount_monthly'][@checked]/@value)") == "5"
    assert page.xpath("string(//input[@name='amount_custom']/@value)") == ""


@pytest.mark.parametrize("query", ["", "?frequency=monthly&amount=10&currency=GBP&story=harbour",
                                   "?amount=&frequency=", "?cancelled=1"])
def test_first_view_shows_no_error(client, fake_stripe, query):
    """However the reader arrives, the first view of /contribute greets with no error."""
    page = _page(client.get(f"/contribute{query}"))
    assert not page.xpath("//*[@class='contribute__errors']")
    assert not page.xpath("//*[@aria-invalid='true']")


def test_email_is_optional(client, fake_stripe):
    """Without an email the session is created and Stripe's page asks for it."""
    response = client.post("/contribute", data={**VALID, "email": ""})
    assert response.status_code == 303
    params, _ = fake_stripe.created[0]
    assert "customer_email" not in params
    client.post("/contribute", data={**VALID, "nonce": "m" * 24})
    assert fake_stripe.created[1][0]["customer_email"] == "reader@example.com"


def test_amount_of_the_chosen_frequency_is_charged(client, fake_stripe):
    """Each frequency's buttons have their own name: the chosen frequency's is charged, what
    another frequency's buttons hold is not."""
    response = client.post("/contribute", data={
        **VALID, "frequency": "annual", "amount_one_off": "25", "amount_monthly": "10",
        "amount_annual": "100", "amount": ""})
    assert response.status_code == 303
    params = fake_stripe.created[0][0]
    assert params["line_items"][0]["price_data"]["unit_amount"] == 10000


def test_button_chosen_in_another_currency_is_asked_again(client, fake_stripe):
    """Without script, switching currency leaves the buttons in the old one: the reader is
    asked to choose again in the new currency, and nothing is charged."""
    response = client.post("/contribute", data={**VALID, "amount": "", "amount_one_off": "10",
                                                 "currency": "EUR", "shown_currency": "USD"})
    assert response.status_code == 200 and fake_stripe.created == []
    page = _page(response)
    errors = page.xpath("//div[@class='contribute__errors']//li//text()")
    assert errors == ["The amounts are now in EUR: please choose one again."]
    assert page.xpath("//input[@name='amount_one_off']/following-sibling::span/text()")[0] == "€5"
    typed = client.post("/contribute", data={**VALID, "amount_custom": "10", "currency": "EUR",
                                              "shown_currency": "USD"})
    assert typed.status_code == 303  # a typed amount has no currency of its own to mismatch


def test_custom_amount_overrides_preset(client, fake_stripe):
    """A non-empty amount_custom wins over the checked preset."""
    response = client.post("/contribute", data={**VALID, "amount": "5", "amount_custom": "7.25"})
    assert response.status_code == 303
    params = fake_stripe.created[0][0]
    assert params["line_items"][0]["price_data"]["unit_amount"] == 725


@pytest.mark.parametrize(("field", "value", "message"), [
    ("amount", "0.99", "The smallest contribution is $1."),
    ("amount", "10000.01", "The largest contribution we can take online is $10,000."),
    ("amount", "12.505", "Use at most two decimals, for example 12.50."),
    ("amount", "ten", "Enter the amount as a number, for example 5 or 12.50."),
    ("amount", "-5", "Enter the amount as a number, for example 5 or 12.50."),
    ("amount", "NaN", "Enter the amount as a number, for example 5 or 12.50."),
    ("currency", "JPY", "Choose one of USD, EUR, GBP, CAD, AUD."),
    ("frequency", "weekly", "Choose one-off, monthly or annual."),
    ("email", "not-an-email", "Enter an email address like name@example.com."),
])
def test_bad_input_shows_form_with_message(client, fake_stripe, field, value, message):
    """Each kind of bad input answers 400 with a clear message and never reaches Stripe."""
    response = client.post("/contribute", data={**VALID, field: value})
    assert response.status_code == 400
    assert message in _page(response).xpath("//div[@class='contribute__errors']//li//text()")
    assert fake_stripe.created == []


def test_one_off_creates_donation_session(client, fake_stripe):
    """A one-off gift becomes a payment-mode donate session with a Customer and metadata."""
    client.set_cookie("sa_rid", "r" * 22)
    response = client.post("/contribute", data={**VALID, "story": "harbour-dredging",
                                                 "appeal": "4", "variant": "9"})
    assert response.status_code == 303
    params, key = fake_stripe.created[0]
    assert response.headers["Location"] == params["url"]
    assert params["mode"] == "payment" and params["submit_type"] == "donate"
    assert params["customer_creation"] == "always"
    assert "payment_method_types" not in params
    assert params["line_items"][0]["price_data"] == {
        "currency": "usd", "unit_amount": 500,
        "product_data": {"name": "One-off contribution to The Harbour Ledger"}}
    expected = {"frequency": "one_off", "story": "harbour-dredging", "appeal": "4",
                "variant": "9", "reader": "r" * 22, "amount_chosen": "500"}
    assert params["metadata"] == expected
    assert params["payment_intent_data"]["metadata"] == expected
    assert params["success_url"].endswith("/contribute/thanks?session_id={CHECKOUT_SESSION_ID}")
    assert key.startswith("checkout-")


@pytest.mark.parametrize(("frequency", "interval"), [("monthly", "month"), ("annual", "year")])
def test_recurring_creates_subscription_session(client, fake_stripe, frequency, interval):
    """Monthly and annual gifts become subscription sessions with inline recurring prices."""
    response = client.post("/contribute", data={**VALID, "frequency": frequency})
    assert response.status_code == 303
    params = fake_stripe.created[0][0]
    assert params["mode"] == "subscription"
    assert params["line_items"][0]["price_data"]["recurring"] == {"interval": interval}
    assert params["subscription_data"]["metadata"]["frequency"] == frequency
    assert "submit_type" not in params and "payment_intent_data" not in params


@pytest.mark.parametrize("frequency", ["one_off", "monthly", "annual"])
def test_euro_gifts_may_be_paid_by_sepa_debit(client, fake_stripe, frequency):
    """Where Stripe offers SEPA Direct Debit (euro prices), Checkout offers it beside cards;
    other currencies stay card-only (the one-off test above: USD)."""
    response = client.post("/contribute", data={**VALID, "frequency": frequency,
                                                 "currency": "EUR", "shown_currency": "EUR"})
    assert response.status_code == 303
    params = fake_stripe.created[0][0]
    assert params["payment_method_types"] == ["card", "sepa_debit"]
    assert params["line_items"][0]["price_data"]["currency"] == "eur"


def test_gbp_gifts_stay_card_only(client, fake_stripe):
    response = client.post("/contribute", data={**VALID, "currency": "GBP",
                                                 "shown_currency": "GBP"})
    assert response.status_code == 303
    assert "payment_method_types" not in fake_stripe.created[0][0]


def test_double_submit_makes_one_session(client, fake_stripe):
    """The same form submitted twice carries the same idempotency key: one session."""
    first = client.post("/contribute", data=VALID)
    second = client.post("/contribute", data=VALID)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(fake_stripe.created) == 1


def test_cover_fees_grosses_up_total(client, fake_stripe):
    """Covering the fees charges ceil((5.00 + 0.30) / (1 - 0.029)) = 5.46."""
    client.post("/contribute", data={**VALID, "cover_fees": "y"})
    params = fake_stripe.created[0][0]
    assert params["line_items"][0]["price_data"]["unit_amount"] == 546
    assert params["metadata"]["cover_fees"] == "1"


def test_form_shows_total_with_fees(client, fake_stripe):
    """The form shows the exact total before payment, fee included when ticked."""
    page = _page(client.get("/contribute?amount=5&currency=USD&frequency=one_off&cover_fees=y"))
    assert page.xpath("string(//strong[@data-total])") == "$5.46"
    assert page.xpath("string(//span[@data-fee])") == "$0.46"


def test_honeypot_creates_nothing(client, fake_stripe):
    """A filled honeypot field (bots) answers 400 and creates no session."""
    response = client.post("/contribute", data={**VALID, "website": "http://spam.example"})
    assert response.status_code == 400
    assert fake_stripe.created == []


def test_stripe_unavailable_shows_friendly_page(client, fake_stripe):
    """When Stripe cannot be reached the reader is told nothing was charged (503)."""
    fake_stripe.unavailable = True
    response = client.post("/contribute", data=VALID)
    assert response.status_code == 503
    assert b"could not be started" in response.data and b"nothing was charged" in response.data


def test_expired_csrf_token_reshows_form(database_url, fake_stripe):
    """With CSRF on, a missing or stale token re-shows the form instead of creating a session."""
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/contribute", data=VALID)
    assert response.status_code == 200
    assert b"Please check your details and confirm." in response.data
    assert fake_stripe.created == []


def test_csrf_token_from_form_is_accepted(database_url, fake_stripe):
    """The token the form carries lets the submission through."""
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = _page(client.get("/contribute")).xpath("string(//input[@name='csrf_token']/@value)")
    response = client.post("/contribute", data={**VALID, "csrf_token": token})
    assert response.status_code == 303


def test_checkout_rate_limited(database_url, fake_stripe):
    """Past the checkout limit, more session attempts from one address get 429."""
    app = make_app(database_url, RATELIMIT_ENABLED=True, CHECKOUT_RATE_LIMIT="2 per minute")
    client = app.test_client()
    codes = [client.post("/contribute", data={**VALID, "amount": str(5 + i)}).status_code
             for i in range(3)]
    assert codes == [303, 303, 429]
    assert len(fake_stripe.created) == 2


def test_form_errors_do_not_count_toward_limit(database_url, fake_stripe):
    """Re-showing the form (an amount still to choose) does not use up the limit."""
    app = make_app(database_url, RATELIMIT_ENABLED=True, CHECKOUT_RATE_LIMIT="1 per minute")
    client = app.test_client()
    for _ in range(3):
        assert client.post("/contribute", data={**VALID, "amount": ""}).status_code == 200
    assert client.post("/contribute", data=VALID).status_code == 303


def test_captcha_hook_can_refuse(database_url, fake_stripe):
    """A configured CAPTCHA verifier that says no stops the submission."""
    app = make_app(database_url, CAPTCHA_VERIFIER=lambda form, address: False)
    response = app.test_client().post("/contribute", data=VALID)
    assert response.status_code == 400
    assert fake_stripe.created == []


def test_form_action_allows_checkout(client):
    """The CSP lets the form's redirect reach Stripe Checkout and the configured API base."""
    csp = client.get("/contribute").headers["Content-Security-Policy"]
    assert "form-action 'self' https://checkout.stripe.com" in csp
    assert "http://127.0.0.1:12111" in csp and "unsafe-inline" not in csp


_text = st.text(max_size=12) | st.sampled_from(["5", "0.5", "1", "1.00", "12.505", "1e9", "USD",
                                                "monthly", "one_off", "a@b.co", " 7 ", "y"])
_forms = st.dictionaries(
    st.sampled_from(["frequency", "amount", "amount_custom", "currency", "email", "story",
                     "appeal", "variant", "nonce", "cover_fees", "website", "csrf_token",
                     "amount_one_off", "amount_monthly", "amount_annual", "shown_currency"]),
    _text, max_size=12)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=_forms, query=_forms)
def test_random_form_bodies_never_500(client, fake_stripe, body, query):
    """Random form bodies and query strings: never a 5xx, never a session below 1.00."""
    nul = any("\x00" in value for value in query.values())  # refused before the view
    assert client.get("/contribute", query_string=query).status_code == (400 if nul else 200)
    response = client.post("/contribute", data={"nonce": "n" * 24, **body})
    assert response.status_code in (200, 303, 400)
    for params, _key in fake_stripe.created:
        assert params["line_items"][0]["price_data"]["unit_amount"] >= 100

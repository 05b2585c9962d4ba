"""The emulator's hosted pages in Chromium: axe finds nothing, nothing scrolls sideways
from 320 to 1280 px, and a reader pays on Checkout with the keyboard alone (by card or by
SEPA Direct Debit)."""
import pytest

from stripe_emulator.tests.helpers import monthly_params, one_off_params
from tests.a11y import assert_fits, assert_no_axe_violations, focused, tab_order, tab_to

pytestmark = pytest.mark.browser


def back_to_checkout(emulator):
    """A success_url that brings the reader back to the session's page (its "complete" view)."""
    return f"{emulator.url}/c/pay/{{CHECKOUT_SESSION_ID}}"


SEPA = ["card", "sepa_debit"]


def sepa_params(**extra):
    return one_off_params(currency="eur", payment_method_types=SEPA, **extra)


def press_and_wait(page, key):
    """Press `key` and wait for the page it submits or follows to load."""
    with page.expect_navigation():
        page.keyboard.press(key)


def hosted_pages(client, emulator, subscribe, pay):
    """Each hosted page in each state a reader can see."""
    one_off = client.v1.checkout.sessions.create(params=one_off_params(amount=1250))
    euro = client.v1.checkout.sessions.create(params=sepa_params())
    debited = client.v1.checkout.sessions.create(params=sepa_params())
    assert pay(debited.id, iban="AT611904300234573201")["status"] == "complete"
    paid = client.v1.checkout.sessions.create(params=one_off_params())
    assert pay(paid.id)["status"] == "complete"
    monthly = client.v1.checkout.sessions.create(
        params=monthly_params(customer_email="reader@example.com"))
    expired = client.v1.checkout.sessions.create(params=one_off_params())
    client.v1.checkout.sessions.expire(expired.id)
    sub = subscribe(amount=1200, interval="year")
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": sub.customer, "return_url": "https://news.example/account"})
    card = {"email": "reader@example.com", "expiry": "12 / 34", "cvc": "123"}
    # name -> (URL, form to post there or None, what shows the page is in that state)
    return {
        "checkout, one-off": (one_off.url, None, "form [name=card_number]"),
        "checkout, monthly, email known": (monthly.url, None,
                                           "[name=email][value='reader@example.com']"),
        "checkout, card declined": (one_off.url, {**card, "card_number": "4000000000000002"},
                                    "[data-error]"),
        "checkout, SEPA chosen": (f"{euro.url}?method=sepa_debit", None,
                                  "[aria-current=page][data-method=sepa_debit]"),
        "checkout, SEPA IBAN refused": (f"{euro.url}?method=sepa_debit", {
            "email": "reader@example.com", "name": "Jenny Rosen", "iban": "AT61 1904"},
            "[data-error]"),
        "checkout, SEPA processing": (debited.url, None, "[data-status=complete]"),
        "checkout, expired": (expired.url, None, "[data-status=expired]"),
        "checkout, paid": (paid.url, None, "[data-status=complete]"),
        "authenticate": (one_off.url, {**card, "card_number": "4000002500003155"},
                         "button[value=complete]"),
        "portal": (portal.url, None, "[data-subscription]"),
        "error": (f"{emulator.url}/c/pay/cs_test_nope", None, "[data-error]"),
    }


def open_page(page, url, form, shows):
    """Go to the page, or post the form of the Checkout page there (as the reader would),
    and check it is in the state it should be."""
    page.goto(url)
    if form:
        for name, value in form.items():
            page.fill(f"input[name={name}]", value)
        with page.expect_navigation():
            page.click("button[type=submit]")
    assert page.locator(shows).count() == 1, shows


@pytest.mark.a11y
def test_axe_finds_nothing_on_the_hosted_pages(client, emulator, subscribe, pay, page):
    """No WCAG A/AA or best-practice violation on Checkout (open, declined, expired,
    paid), authentication, the portal and the error page."""
    problems = []
    for name, (url, form, shows) in hosted_pages(client, emulator, subscribe, pay).items():
        open_page(page, url, form, shows)
        try:
            assert_no_axe_violations(page)
        except AssertionError as problem:
            problems.append(f"--- {name}: {problem}")
    assert not problems, "\n".join(problems)


def test_hosted_pages_fit_from_320_to_1280_px(client, emulator, subscribe, pay, page):
    """At 320, 390, 768 and 1280 px no hosted page scrolls sideways."""
    problems = []
    for name, (url, form, shows) in hosted_pages(client, emulator, subscribe, pay).items():
        open_page(page, url, form, shows)
        try:
            assert_fits(page)
        except AssertionError as problem:
            problems.append(f"--- {name}: {problem}")
    assert not problems, "\n".join(problems)


def test_reader_pays_on_checkout_with_the_keyboard_alone(client, emulator, page):
    """Tab through the fields, type the card, Enter pays: the session completes; every
    focus along the way is visible."""
    session = client.v1.checkout.sessions.create(
        params=one_off_params(success_url=back_to_checkout(emulator)))
    page.goto(session.url)
    stops = tab_order(page)
    assert [stop.describe for stop in stops if not stop.visible] == []
    assert len(stops) == 6  # the four fields, the button, the cancel link

    tab_to(page, "input[name=email]")
    page.keyboard.type("reader@example.com")
    page.keyboard.press("Tab")
    assert focused(page).describe == "input[name=card_number]"
    page.keyboard.type("4242 4242 4242 4242")
    page.keyboard.press("Tab")
    page.keyboard.type("12 / 34")
    page.keyboard.press("Tab")
    page.keyboard.type("123")
    page.keyboard.press("Tab")
    assert focused(page).describe == 'button "Donate"'
    press_and_wait(page, "Enter")
    assert page.locator("[data-status]").get_attribute("data-status") == "complete"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"


def test_reader_answers_3d_secure_and_leaves_checkout_with_the_keyboard(client, emulator,
                                                                       page):
    """The card that asks for authentication, then Space on "Complete authentication",
    pays; on another session, Cancel is a link that Tab reaches."""
    session = client.v1.checkout.sessions.create(
        params=one_off_params(success_url=back_to_checkout(emulator)))
    page.goto(session.url)
    tab_to(page, "input[name=email]")
    page.keyboard.type("reader@example.com")
    for value in ("4000 0025 0000 3155", "12 / 34", "123"):
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    press_and_wait(page, "Enter")
    tab_to(page, "button[value=complete]")
    press_and_wait(page, "Space")
    assert page.locator("[data-status]").get_attribute("data-status") == "complete"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"

    other = client.v1.checkout.sessions.create(params=one_off_params())
    page.goto(other.url)
    assert tab_to(page, "[data-cancel]").describe.startswith('a "← Cancel')


def test_reader_pays_by_sepa_debit_with_the_keyboard_alone(client, emulator, page):
    """Tab to "SEPA Direct Debit", Enter chooses it; a mistyped IBAN is refused with a
    message; the holder, the IBAN and Enter pay: the session completes, the debit pending."""
    kept, emulator.state.async_delay = emulator.state.async_delay, 3600
    try:
        session = client.v1.checkout.sessions.create(
            params=sepa_params(success_url=back_to_checkout(emulator)))
        page.goto(session.url)
        tab_to(page, "[data-method=sepa_debit]")
        press_and_wait(page, "Enter")
        stops = tab_order(page)
        assert [stop.describe for stop in stops if not stop.visible] == []
        assert len(stops) == 7  # two method links, three fields, the button, cancel
        tab_to(page, "input[name=email]")
        page.keyboard.type("reader@example.com")
        page.keyboard.press("Tab")
        page.keyboard.type("Jenny Rosen")
        page.keyboard.press("Tab")
        assert focused(page).describe == "input[name=iban]"
        page.keyboard.type("AT61 1904 3002 3457 3202")  # one digit wrong
        press_and_wait(page, "Enter")
        assert page.locator("[data-error]").inner_text() == "Your IBAN is invalid."
        tab_to(page, "input[name=iban]")
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.type("AT61 1904 3002 3457 3201")
        page.keyboard.press("Tab")
        assert focused(page).describe == 'button "Donate"'
        press_and_wait(page, "Enter")
        assert page.locator("[data-status]").inner_text().startswith("Your payment is processing")
        done = client.v1.checkout.sessions.retrieve(session.id)
        assert (done.status, done.payment_status) == ("complete", "unpaid")
    finally:
        emulator.state.async_delay = kept

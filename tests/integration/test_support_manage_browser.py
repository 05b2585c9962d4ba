"""The manage pages in a real Chromium: axe finds nothing, nothing scrolls sideways from 320
to 1280 px, and a supporter can ask for a link and use the page with the keyboard alone."""
import re

import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import OutboxMessage, RecurringSupport
from tests.a11y import assert_fits, assert_no_axe_violations, focused, tab_order, tab_to

# Pages, not data: one database is enough (the data paths run on both elsewhere).
pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
EMAIL = "reader@example.com"  # what live.start_checkout types on the form
LINK_RE = re.compile(r"/support/manage/link/[A-Za-z0-9._-]+")


@pytest.fixture
def monthly(live):
    """A monthly supporter of 5, paid on the emulator's Checkout page, webhooks applied."""
    session_id = live.start_checkout(frequency="monthly", amount="5")
    assert live.pay(session_id).json()["status"] == "complete"
    live.settle()
    db.session.rollback()
    support = db.session.scalars(select(RecurringSupport)).one()
    assert support.email == EMAIL and support.frequency == "monthly", support.interval
    return support


def _ask_for_link(live, page, email=EMAIL):
    page.goto(f"{live.url}/support/manage")
    page.fill("input[name=email]", email)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Check your email")


def _emailed_link(email=EMAIL):
    db.session.rollback()
    message = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == email, OutboxMessage.kind == "sign_in_link")
        .order_by(OutboxMessage.id.desc())).first()
    return LINK_RE.search(message.text_body).group(0)


def _signed_in(live, page):
    _ask_for_link(live, page)
    link = _emailed_link()
    page.goto(live.url + link)
    page.wait_for_url(re.compile(r".*/support/manage/gifts$"))
    return link


@pytest.mark.a11y
def test_axe_finds_nothing_on_the_manage_pages(live, monthly, page):
    """WCAG 2.0/2.1 A and AA and axe's best practices: the form, the form with an error, the
    answer, a used link, the supporter's page, its refusal, the cancel and erase pages."""
    page.goto(f"{live.url}/support/manage")
    assert_no_axe_violations(page)
    page.fill("input[name=email]", "not an address")
    page.click("button[type=submit]")
    page.wait_for_selector("#email-errors")
    assert_no_axe_violations(page)
    _ask_for_link(live, page)
    assert_no_axe_violations(page)
    link = _emailed_link()
    page.goto(live.url + link)
    assert page.locator("h1").inner_text() == "Your support"
    assert_no_axe_violations(page)
    page.fill(f"#amount-{monthly.id}", "0.5")
    page.click(f"#gift-{monthly.id} button.manage__change")
    page.wait_for_selector(".manage__problem")
    assert_no_axe_violations(page)
    for path in (f"/support/manage/gifts/{monthly.id}/cancel", "/support/manage/erase", link):
        page.goto(live.url + path)
        assert_no_axe_violations(page)
    assert "already been used" in page.content()


def test_manage_pages_fit_from_320_to_1280_px(live, monthly, page):
    """No manage page scrolls sideways at 320, 390, 768 or 1280 px."""
    page.goto(f"{live.url}/support/manage")
    assert_fits(page)
    _signed_in(live, page)
    assert_fits(page)
    for path in (f"/support/manage/gifts/{monthly.id}/cancel", "/support/manage/erase"):
        page.goto(live.url + path)
        assert_fits(page)


def test_sign_in_and_manage_with_the_keyboard_alone(live, monthly, page):
    """Type the address and press Enter; on the page every Tab stop shows the focus, and a
    change typed and submitted with the keyboard is answered (here: refused, with why)."""
    page.goto(f"{live.url}/support/manage")
    tab_to(page, "input[name=email]")
    page.keyboard.type(EMAIL)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Check your email")
    page.goto(live.url + _emailed_link())
    page.wait_for_url(re.compile(r".*/support/manage/gifts$"))
    assert [stop.describe for stop in tab_order(page) if not stop.visible] == []
    tab_to(page, f"#amount-{monthly.id}")
    page.keyboard.press("Control+A")
    page.keyboard.type("20000")
    tab_to(page, f"#gift-{monthly.id} button.manage__change")
    assert focused(page).visible
    page.keyboard.press("Enter")
    page.wait_for_selector(".manage__problem")
    assert "The largest contribution we can take online is $10,000." in page.locator(
        ".manage__problem").inner_text()

"""The card-update link's pages in a real Chromium: a supporter follows the emailed link to
the emulator's card page and back with the keyboard alone; the answers (paid, declined,
expired, for another gift) are axe-clean and fit from 320 to 1280 px."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import OutboxMessage, PaymentFailure
from supportapp.services.clock import move_clock
from tests.a11y import assert_fits, assert_no_axe_violations, focused, tab_order, tab_to
from tests.integration.conftest import CARD_RENEWAL_FAILS
from tests.integration.test_recovery_emulator import LINK_RE

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
CARD_DECLINED = "4000000000000002"


@pytest.fixture
def link(live):
    """The path of the link in the first email of a renewal that failed on the emulator."""
    session_id = live.start_checkout(frequency="monthly", amount="5")
    assert live.pay(session_id, card=CARD_RENEWAL_FAILS).json()["status"] == "complete"
    sub = live.stripe.v1.subscriptions.retrieve(live.subscription_of(session_id))
    live.control("/clock/advance", to=str(sub["items"].data[0].current_period_end))
    live.settle()
    db.session.rollback()
    message = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "recovery_failed")).one()
    return LINK_RE.search(message.text_body).group(1)


def _type_card(page, number):
    """On the emulator's card page: the card typed and sent with the keyboard."""
    page.wait_for_selector("input[name=card_number]")
    tab_to(page, "input[name=card_number]")
    page.keyboard.type(number)
    tab_to(page, "input[name=expiry]")
    page.keyboard.type("12/34")
    tab_to(page, "input[name=cvc]")
    page.keyboard.type("123")
    page.keyboard.press("Enter")


@pytest.mark.a11y
def test_declined_then_paid_with_the_keyboard(live, link, page):
    """A declined new card: a page that says so, axe-clean, whose one button tries again;
    the next card pays, and the thank-you page is axe-clean and fits a phone."""
    page.goto(live.url + link)
    _type_card(page, CARD_DECLINED)
    # The emulator's portal refuses the declined card on its own form; a card it saves
    # but the bank refuses for this payment is the 0341 card itself.
    page.wait_for_selector("text=declined")
    page.goto(live.url + link)
    _type_card(page, CARD_RENEWAL_FAILS)
    page.wait_for_selector("h1:has-text('The payment did not go through')")
    assert_no_axe_violations(page)
    assert_fits(page)
    assert [stop.describe for stop in tab_order(page) if not stop.visible] == []
    tab_to(page, "section.manage a.button")
    assert focused(page).visible
    page.keyboard.press("Enter")
    _type_card(page, "4242424242424242")
    page.wait_for_selector("h1:has-text('Thank you: your gift is back on track')")
    assert "payment of $5.00 has gone through" in page.content()
    assert_no_axe_violations(page)
    assert_fits(page)
    db.session.rollback()
    assert db.session.scalars(select(PaymentFailure.recovered_at)).one() is not None


@pytest.mark.a11y
def test_expired_and_tampered_links_with_the_keyboard(live, link, page):
    """An expired link: axe-clean, and its button (reached with Tab, pressed with Enter)
    emails a new link. A link moved to another gift: axe-clean, with a way to sign in."""
    support_id = link.split("/")[4]
    page.goto(live.url + link.replace(f"/card/{support_id}/",
                                      f"/card/{int(support_id) + 7}/"))
    assert page.locator("h1").inner_text() == "This link is for another gift"
    assert_no_axe_violations(page)
    assert_fits(page)
    move_clock(timedelta(days=8), live.app)
    page.goto(live.url + link)
    assert page.locator("h1").inner_text() == "This link has expired"
    assert_no_axe_violations(page)
    assert_fits(page)
    tab_to(page, "section.manage form button.button")
    assert focused(page).visible
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Check your email')")
    assert_no_axe_violations(page)
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage.kind).where(
        OutboxMessage.kind == "recovery_new_link")).all() == ["recovery_new_link"]

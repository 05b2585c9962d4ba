"""A reader in a real Chromium: appeal -> emulator Checkout -> thank-you, in one click; and
/contribute: its first view, the currency switch, a cancelled payment."""
import re

import pytest

from supportapp.models import Appeal, AppealVariant
from supportapp.services.appeals import save_appeal
from supportapp.services.tracking import roll_up
from tests.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.browser


def pay_on_checkout(page, email):
    """On Stripe's (the emulator's) page: the email and the card that pays; then thanked."""
    page.fill("input[name=email]", email)
    page.fill("input[name=card_number]", "4242 4242 4242 4242")
    page.fill("input[name=expiry]", "12 / 34")
    page.fill("input[name=cvc]", "123")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/contribute/thanks\?session_id=cs_test_.*"))


def _live_appeal():
    appeal = Appeal(name="Winter drive", status="live", placement_paragraph=2,
                    target_sections=[], excluded_sections=[])
    presets = {"USD": {"one_off": [1000, 2500], "monthly": [300, 500, 1000],
                       "annual": [5000, 10000]}}
    appeal.variants.append(AppealVariant(
        name="control", heading="Since you're here…", body="<p>Please support us.</p>",
        cta_label="Support us", preset_amounts=presets, default_frequency="one_off",
        weight=1, is_control=True))
    save_appeal(appeal)
    return appeal


@pytest.mark.parametrize("live", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_reader_gives_monthly_from_appeal(live, make_story, make_staff, page):
    """Choose 5 monthly in the appeal: one click on its button reaches Stripe's (the
    emulator's) page, which asks for the email; pay with 4242, get thanked, see no appeal on
    the next story; then staff find that gift's story and variant."""
    first, second = make_story(slug="harbour-dredging"), make_story(slug="ferry-timetable")
    drive = _live_appeal()
    page.goto(f"{live.url}/stories/{first.slug}")
    appeal = page.locator("section.appeal")
    appeal.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # on screen for a second: a viewable impression
    appeal.locator("input[name=frequency][value=monthly]").check()
    appeal.locator("input[name=amount_monthly][value='5']").check()
    appeal.locator("button.appeal__cta").click()

    page.wait_for_url(re.compile(re.escape(live.emulator.url) + r"/c/pay/cs_test_.*"))
    assert page.locator("[data-amount]").inner_text() == "$5.00"
    pay_on_checkout(page, "reader@example.com")
    assert page.locator("h1").inner_text() == "Thank you!"
    assert "reader@example.com" in page.content()
    assert "Manage your recurring contribution" in page.content()

    page.goto(f"{live.url}/stories/{second.slug}")
    assert page.locator("h1").inner_text() == second.title
    assert page.locator("section.appeal").count() == 0

    live.settle()
    _staff_find_the_gift(live, page, make_staff("viewer"), first, drive)


def test_currency_switch_redraws_the_appeal(live, make_story, page):
    """Switching the appeal to euros relabels every button at once; the payment is in euros
    at the amount the button showed."""
    story = make_story(slug="harbour-dredging")
    _live_appeal()
    page.goto(f"{live.url}/stories/{story.slug}")
    appeal = page.locator("section.appeal")
    assert appeal.locator(".chooser__amounts--one_off .choice span").all_inner_texts() == [
        "$10", "$25"]
    appeal.locator("select[name=currency]").select_option("EUR")
    assert appeal.locator(".chooser__amounts--one_off .choice span").all_inner_texts() == [
        "€5", "€10", "€25", "€50"]  # the variant has no euro presets: the defaults
    assert appeal.locator("input[name=shown_currency]").input_value() == "EUR"
    appeal.locator("input[name=amount_one_off][value='25']").check()
    appeal.locator("button.appeal__cta").click()
    page.wait_for_url(re.compile(re.escape(live.emulator.url) + r"/c/pay/cs_test_.*"))
    assert page.locator("[data-amount]").inner_text() == "€25.00"


def test_contribute_page_first_view_totals_and_cancel(live, page):
    """/contribute greets without an error; "per month" and the total follow the choice;
    cancelling on Stripe's page comes back saying nothing was charged, with every choice
    and the email kept."""
    page.goto(f"{live.url}/contribute?frequency=monthly&amount=10&currency=USD")
    assert page.locator(".contribute__errors").count() == 0
    assert page.locator("[aria-invalid=true]").count() == 0
    assert page.locator("#contribute-amount-monthly legend").inner_text() == "Amount per month"
    assert page.locator("[data-total-line]").inner_text() == "You will pay $10 a month."
    page.check("input[name=cover_fees]")  # the script shows the grossed-up total live
    assert page.locator("[data-total]").inner_text() == "$10.61"
    page.check("input[name=frequency][value=annual]")
    assert page.locator("#contribute-amount-annual").is_visible()
    assert page.locator("[data-total-line]").inner_text() == "You will pay $103.30 a year."
    page.check("input[name=frequency][value=monthly]")
    page.select_option("select[name=currency]", "GBP")
    assert page.locator("#contribute-amount-monthly .choice span").all_inner_texts() == [
        "£5", "£10", "£20"]
    page.fill("input[name=email]", "kept@example.com")
    page.click("button.contribute__submit")
    page.wait_for_url(re.compile(re.escape(live.emulator.url) + r"/c/pay/cs_test_.*"))
    assert page.locator("[data-amount]").inner_text() == "£10.61"
    page.click("[data-cancel]")
    page.wait_for_url(re.compile(r".*/contribute\?cancelled=1.*"))
    assert "nothing was charged" in page.locator(".contribute__cancelled").inner_text()
    assert page.locator("input[name=frequency][value=monthly]").is_checked()
    assert page.locator("input[name=amount_monthly][value='10']").is_checked()
    assert page.locator("select[name=currency]").input_value() == "GBP"
    assert page.locator("input[name=email]").input_value() == "kept@example.com"
    assert page.locator(".contribute__errors").count() == 0


def _staff_find_the_gift(live, page, staff, story, appeal):
    """A staff member signs in and finds the reader's story and variant with the amount."""
    with live.app.app_context():
        roll_up()  # the worker's job (or the app's thread) in production; reports only read
    page.context.clear_cookies()
    page.goto(f"{live.url}/dashboard/login")
    page.fill("input[name=email]", staff.email)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live.url}/dashboard/stories?period=today")
    row = page.locator("table.numbers tbody tr", has_text=story.title)
    cells = row.locator("td")
    assert cells.nth(6).inner_text() == "1"  # payments
    assert cells.nth(7).inner_text() == "1"  # recurring supporters won
    assert cells.nth(9).inner_text() == "$5"  # revenue
    funnel = [cells.nth(n).inner_text() for n in (2, 3, 4, 5)]
    assert funnel == ["1", "1", "1", "1"]  # shown, viewable, clicked, checkout started
    page.goto(f"{live.url}/dashboard/appeals/{appeal.id}?period=today")
    variant = page.locator("table.numbers tbody tr", has_text="control")
    assert variant.locator("td").nth(4).inner_text() == "1"  # payments
    assert variant.locator("td").nth(8).inner_text() == "$5"  # revenue
    # 5 a month is 60 a year, over one viewable impression: 60,000 per 1,000.
    assert variant.locator("td").nth(9).inner_text() == "$60,000"


def test_one_off_to_monthly_offer_ends_in_a_subscription(live, page):
    """Choosing 25 once offers 5 a month; the offer follows the amount as the reader changes
    it (script); taking it turns the form monthly, and paying makes a monthly subscription."""
    from sqlalchemy import select

    from supportapp.extensions import db
    from supportapp.models import RecurringSupport

    page.goto(f"{live.url}/contribute?frequency=one_off&amount=25&currency=USD")
    offer = page.locator("[data-offer]")
    assert offer.is_visible() and offer.locator("strong").inner_text() == "$5"
    page.check("input[name=amount_one_off][value='50']")
    assert offer.locator("strong").inner_text() == "$10"
    page.check("input[name=frequency][value=monthly]")
    assert not offer.is_visible()
    page.check("input[name=frequency][value=one_off]")
    assert offer.is_visible()
    offer.locator("button").click()
    page.wait_for_load_state()
    assert page.locator("input[name=frequency][value=monthly]").is_checked()
    assert page.locator("input[name=amount_monthly][value='10']").is_checked()
    assert page.locator("[data-total-line]").inner_text() == "You will pay $10 a month."
    page.click("button.contribute__submit")
    page.wait_for_url(re.compile(re.escape(live.emulator.url) + r"/c/pay/cs_test_.*"))
    assert page.locator("[data-amount]").inner_text() == "$10.00"
    pay_on_checkout(page, "monthly@example.com")
    live.settle()
    with live.app.app_context():
        (support,) = db.session.scalars(select(RecurringSupport)).all()
        assert (support.amount_minor, support.interval, support.status) == (1000, "month",
                                                                            "active")

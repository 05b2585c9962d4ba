"""Readers' pages in a real Chromium: axe finds nothing, nothing scrolls sideways or wraps
awkwardly from 320 to 1280 px, the story page does not move when its scripts run, and the
whole path from the appeal to a paid gift works with the keyboard alone."""
import re

import pytest

from supportapp.models import Appeal, AppealVariant
from supportapp.services.appeals import save_appeal
from tests.a11y import (
    assert_fits,
    assert_no_axe_violations,
    cumulative_layout_shift,
    focused,
    rows,
    tab_order,
    tab_to,
)
from tests.integration.conftest import CARD_OK

# Pages, not data: one database is enough (the money path runs on both elsewhere).
pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
CHOOSER_BOXES = (".chooser__frequency .choice", ".chooser__amounts--monthly .choice")


@pytest.fixture
def drive(live, make_story):
    """A live appeal (monthly by default, a goal) and a long story to put it in."""
    appeal = Appeal(name="Winter drive", status="live", placement_paragraph=2,
                    target_sections=[], excluded_sections=[], goal_amount_minor=2_500_000,
                    goal_currency="USD", goal_label="Our goal: US$25,000 by year end")
    appeal.variants.append(AppealVariant(
        name="control", heading="Since you're here…",
        body="<p>You've read {article_count} this month. Help us keep going.</p>",
        cta_label="Support us", preset_amounts={}, default_frequency="monthly", weight=1,
        is_control=True))
    save_appeal(appeal)
    body = "".join(f"<p>Paragraph {n} of a long story about the harbour, with enough words "
                   f"to fill a line or two on a phone.</p>" for n in range(1, 9))
    return make_story(slug="harbour-dredging", body_html=body)


def _pages(live, drive):
    """The reader pages to check, by name: (path, what to do once loaded)."""
    return {
        "story with the appeal": f"/stories/{drive.slug}",
        "/support": "/support",
        "/contribute": "/contribute",
        "/contribute, one-off with the offer": "/contribute?frequency=one_off&amount=25",
        "/contribute, back from Stripe": "/contribute?cancelled=1&frequency=monthly&amount=10",
    }


@pytest.mark.a11y
def test_axe_finds_nothing_on_readers_pages(live, drive, page):
    """WCAG 2.0/2.1 A and AA (and axe's best practices) on every reader page, the form after
    an error and the thank-you page included."""
    for path in _pages(live, drive).values():
        page.goto(live.url + path)
        assert_no_axe_violations(page)
    page.goto(f"{live.url}/contribute")
    page.fill("input[name=amount_custom]", "0.5")
    page.click("button.contribute__submit")
    page.wait_for_selector(".contribute__errors")
    assert_no_axe_violations(page)
    page.goto(f"{live.url}/contribute/thanks?session_id={_paid_session(live, page)}")
    assert page.locator("h1").inner_text() == "Thank you!"
    assert_no_axe_violations(page)


def _paid_session(live, page):
    """A one-off gift started and paid in this browser (its thank-you page shows details)."""
    page.goto(f"{live.url}/contribute?frequency=one_off&amount=25")
    page.click("button.contribute__submit")
    page.wait_for_url(re.compile(re.escape(live.emulator.url) + r"/c/pay/cs_test_.*"))
    session_id = page.url.rsplit("/", 1)[1]
    assert live.pay(session_id, card=CARD_OK).json()["status"] == "complete"
    return session_id


def test_readers_pages_fit_from_320_to_1280_px(live, drive, page):
    """No page scrolls sideways at 320, 390, 768 or 1280 px, the chooser's buttons keep to
    one row each (three frequencies; three monthly amounts), and every page shows "Support
    us" in its masthead and footer."""
    for name, path in _pages(live, drive).items():
        page.goto(live.url + path)
        assert page.locator("header.masthead a", has_text="Support us").is_visible(), name
        assert page.locator("footer a", has_text="Support us").is_visible(), name
        for layout in assert_fits(page, boxes=CHOOSER_BOXES):
            frequencies, amounts = (layout.boxes[s] for s in CHOOSER_BOXES)
            assert rows(frequencies) == 1, f"{name} at {layout.width} px: frequencies wrap"
            visible = [box for box in amounts if box["width"]]
            if visible:
                assert rows(visible) == 1, f"{name} at {layout.width} px: amounts wrap"


def test_story_page_does_not_move_when_its_scripts_run(live, drive, page):
    """The appeal is part of the server's page: cumulative layout shift 0 once the page, its
    scripts and its beacons have run, on a phone and on a laptop."""
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live.url}/stories/{drive.slug}")
        shift = cumulative_layout_shift(page, settle_ms=500)
        assert shift.cls == 0, f"at {width} px: {shift}"
    # The copy reads right in the browser too: one story is "1 story".
    assert "You've read 1 story this month." in page.locator(".appeal__body").inner_text()


def test_appeal_to_paid_gift_with_the_keyboard_alone(live, drive, page):
    """Tab into the appeal, choose annual and its third amount with the arrow keys, Enter on
    the button; on Stripe's page type the email and card and press Enter: thanked. Every
    stop on the way shows where the focus is."""
    page.goto(f"{live.url}/stories/{drive.slug}")
    assert [stop.describe for stop in tab_order(page) if not stop.visible] == []
    tab_to(page, "input[name=frequency]:checked")
    page.keyboard.press("ArrowRight")  # monthly -> annual
    assert page.locator("input[name=frequency][value=annual]").is_checked()
    page.keyboard.press("Tab")
    assert focused(page).describe.startswith("input[name=amount_annual]")
    page.keyboard.press("ArrowRight")  # the second preset -> the third
    assert page.locator("input[name=amount_annual][value='250']").is_checked()
    tab_to(page, "button.appeal__cta")
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(re.escape(live.emulator.url) + r"/c/pay/cs_test_.*"))
    assert page.locator("[data-amount]").inner_text() == "$250.00"
    tab_to(page, "input[name=email]")
    page.keyboard.type("keys@example.com")
    for text in ("4242 4242 4242 4242", "12 / 34", "123"):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/contribute/thanks\?session_id=cs_test_.*"))
    assert page.locator("h1").inner_text() == "Thank you!"
    assert "$250 a year" in page.locator(".contribute__summary").inner_text()

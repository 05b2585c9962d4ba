"""A reader in a real Chromium: appeal -> /contribute -> emulator Checkout -> thank-you."""
import os
import re

import pytest

from supportapp.models import Appeal, AppealVariant
from supportapp.services.appeals import save_appeal

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"{CHROMIUM} is missing (`make test` installs it)"),
]


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="en-US").new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()


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


@pytest.mark.parametrize("live", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_reader_gives_monthly_from_appeal(live, make_story, browser_page):
    """Choose 5 monthly in the appeal, add an email, pay with 4242 on Checkout, get thanked,
    and see no appeal on the next story."""
    first, second = make_story(slug="harbour-dredging"), make_story(slug="ferry-timetable")
    _live_appeal()
    page = browser_page
    page.goto(f"{live.url}/stories/{first.slug}")
    appeal = page.locator("section.appeal")
    appeal.locator("input[name=frequency][value=monthly]").check()
    appeal.locator(".appeal__amounts--monthly input[name=amount][value='5']").check()
    appeal.locator("button.appeal__cta").click()

    page.wait_for_url(re.compile(r".*/contribute$"))
    assert page.locator("input[name=frequency][value=monthly]").is_checked()
    assert page.locator("[data-total]").inner_text() == "$5"
    page.check("input[name=cover_fees]")  # the script shows the grossed-up total live
    assert page.locator("[data-total]").inner_text() == "$5.46"
    page.uncheck("input[name=cover_fees]")
    assert page.locator("[data-total]").inner_text() == "$5"
    page.fill("input[name=email]", "reader@example.com")
    page.click("button.contribute__submit")

    page.wait_for_url(re.compile(re.escape(live.emulator.url) + r"/c/pay/cs_test_.*"))
    assert page.locator("[data-amount]").inner_text() == "$5.00"
    page.fill("input[name=card_number]", "4242 4242 4242 4242")
    page.fill("input[name=expiry]", "12 / 34")
    page.fill("input[name=cvc]", "123")
    page.click("button[type=submit]")

    page.wait_for_url(re.compile(r".*/contribute/thanks\?session_id=cs_test_.*"))
    assert page.locator("h1").inner_text() == "Thank you!"
    assert "Manage your recurring contribution" in page.content()

    page.goto(f"{live.url}/stories/{second.slug}")
    assert page.locator("h1").inner_text() == second.title
    assert page.locator("section.appeal").count() == 0

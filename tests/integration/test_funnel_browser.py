"""The funnel in a real Chromium: a reader who clicks the appeal within a second of scrolling
to it (so no viewable beacon is sent) and pays, and a reader without a reader id (Do Not
Track) who looks at it for a while; the staff story page then shows conversion at most 100%
and the share of appeals shown that never reported a view."""
import re
from collections import Counter

import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, TrackingEvent
from supportapp.services.appeals import save_appeal
from supportapp.services.tracking import roll_up
from tests.browser import DESKTOP_CHROME
from tests.conftest import STAFF_PASSWORD
from tests.integration.test_contribute_browser import pay_on_checkout

pytestmark = pytest.mark.browser


def _appeal():
    appeal = Appeal(name="Winter drive", status="live", placement_paragraph=2,
                    target_sections=[], excluded_sections=[])
    appeal.variants.append(AppealVariant(
        name="control", heading="Since you're here…", body="<p>Please support us.</p>",
        cta_label="Support us", preset_amounts={"USD": {"one_off": [1000, 2500]}},
        default_frequency="one_off", weight=1, is_control=True))
    save_appeal(appeal)
    return appeal


def _fast_clicker_pays(live, page, story):
    page.goto(f"{live.url}/stories/{story.slug}")
    appeal = page.locator("section.appeal")
    appeal.scroll_into_view_if_needed()
    appeal.locator("input[name=amount_one_off][value='10']").check()
    appeal.locator("button.appeal__cta").click()  # well within the viewability second
    page.wait_for_url(re.compile(re.escape(live.emulator.url) + r"/c/pay/cs_test_.*"))
    pay_on_checkout(page, "fast@example.com")


def _reader_without_id_looks(live, browser, story):
    context = browser.new_context(locale="en-US", user_agent=DESKTOP_CHROME,
                                  extra_http_headers={"DNT": "1"})
    page = context.new_page()
    try:
        page.goto(f"{live.url}/stories/{story.slug}")
        appeal = page.locator("section.appeal")
        assert appeal.get_attribute("data-pv")  # the server's page view id, for the beacon
        with page.expect_response(lambda r: r.url.endswith("/api/events")) as answer:
            appeal.scroll_into_view_if_needed()  # on screen for a second: a viewable impression
        assert answer.value.status == 204  # stored (the journal is off in tests)
    finally:
        context.close()


def _story_page(live, page, staff, story):
    page.context.clear_cookies()
    page.goto(f"{live.url}/dashboard/login")
    page.fill("input[name=email]", staff.email)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live.url}/dashboard/stories/{story.id}?period=today")
    funnel = page.locator("ol.funnel li").all_inner_texts()
    stats = dict(zip(page.locator("dl.stats dt").all_text_contents(),
                     page.locator("dl.stats dd").all_text_contents(), strict=True))
    return funnel, stats


def test_fast_click_and_missing_beacons(live, make_story, make_staff, page, browser):
    """One reader clicks within a second and pays; one without a reader id looks for a
    while. Shown 2 (the second reader's rendering and view joined by the page view id),
    viewable 2 (the click implies the first), clicks 1, checkouts 1, payments 1: conversion
    1 / 2 per viewable and per shown, and 1 of 2 shown reported no view."""
    # Long paragraphs: the appeal (after the second) starts below the fold.
    story = make_story(slug="harbour-dredging", body_html="".join(
        "<p>" + f"Paragraph {n} of the story. " * 120 + "</p>" for n in range(1, 7)))
    _appeal()
    _fast_clicker_pays(live, page, story)
    _reader_without_id_looks(live, browser, story)
    live.settle()
    with live.app.app_context():  # as the worker would: reports only read
        roll_up()
    funnel, stats = _story_page(live, page, make_staff("viewer"), story)
    with live.app.app_context():
        kinds = Counter(db.session.scalars(select(TrackingEvent.kind)))
    assert (kinds["rendered"], kinds["view"], kinds["checkout"]) == (2, 1, 1)
    assert funnel == ["2 shown", "2 viewable", "1 clicks", "1 checkouts", "1 payments"]
    assert stats["Conversion per viewable"] == "50.00%"
    assert stats["Conversion per shown"] == "50.00%"
    assert stats["Beacons missing"].startswith("50.00%")
    assert "1 of 2 shown reported no view" in stats["Beacons missing"]

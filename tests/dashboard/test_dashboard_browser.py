"""The dashboard in a real Chromium: sign in, charts drawn, the live preview, no CSP errors."""
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import STAFF_PASSWORD, make_app

pytestmark = pytest.mark.browser


@pytest.fixture
def served(database_url, app):
    """The app with CSRF on, served on a loopback port; yields its base URL."""
    from tests.integration.conftest import serve

    url, server = serve(make_app(database_url, WTF_CSRF_ENABLED=True))
    yield url
    server.shutdown()


@pytest.fixture
def browser_page(browser):
    """A page that collects console errors, failed responses and page errors in `problems`."""
    page = browser.new_context(locale="en-US").new_page()
    page.set_default_timeout(15_000)
    page.problems = []
    page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text
            and page.problems.append(m.text))
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico")
            and page.problems.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    return page


def test_editor_signs_in_sees_charts_and_previews_copy(served, browser_page, make_staff,
                                                       activity):
    """Sign in, the overview chart is drawn, typing a heading updates the preview live."""
    page, appeal = browser_page, activity["appeal"]
    editor = make_staff("editor")
    page.goto(f"{served}/dashboard/appeals/{appeal.id}/edit")
    page.fill("#email", editor.email)
    page.fill("#password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/dashboard/appeals/{appeal.id}/edit")

    preview = page.locator("#appeal-preview h2")
    assert "Since you" in preview.inner_text()
    page.fill("#variants-0-heading", "Read {article_count}? <b>Chip in</b>")
    expect(preview).to_have_text("Read 5 stories? <b>Chip in</b>")  # escaped, not bold
    page.select_option("#preview_variant", "1")
    expect(preview).to_have_text("You have read 5 stories")

    page.goto(f"{served}/dashboard/?period=7d")
    # Chart.js sizes the canvas it draws on (through the DOM, which the CSP allows).
    expect(page.locator("#raised-chart")).to_have_attribute("style", re.compile("height"))
    assert page.locator("#raised-chart").bounding_box()["height"] > 100
    assert page.problems == []

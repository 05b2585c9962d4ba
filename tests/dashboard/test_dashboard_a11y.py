"""The staff pages in Chromium: axe finds nothing, nothing scrolls sideways from 320 to
1280 px, and the keyboard reaches and works everything, with the focus always visible.

The appeal editor is left out (it is being reworked). The pages do not depend on the
database engine, so these run on SQLite only.
"""
import re

import pytest

from tests.a11y import assert_fits, assert_no_axe_violations, focused, tab_order, tab_to
from tests.conftest import STAFF_PASSWORD, make_app
from tests.dashboard.conftest import ADMIN_EMAIL, SUPPORTER

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

@pytest.fixture
def at_risk_rows(supporter_history):
    """A failed renewal being chased, with its emails, and a card about to expire."""
    from datetime import UTC, datetime, timedelta

    from supportapp.extensions import db
    from supportapp.models import PaymentFailure
    from tests.dashboard.conftest import outbox_message

    now = datetime.now(UTC)
    support = supporter_history["support"]
    support.card_exp_month, support.card_exp_year = now.month, now.year
    db.session.add_all([
        PaymentFailure(recurring_support_id=support.id, stripe_invoice_id="in_test_failed",
                       amount_minor=500, currency="EUR", first_failed_at=now,
                       last_failed_at=now, reason="insufficient_funds", attempt_count=1,
                       next_retry_at=now + timedelta(days=3)),
        outbox_message("recovery:in_test_failed", "kind@reader.example", kind="payment_failed",
                       status="sent", attempts=1, sent_at=now),
    ])
    db.session.commit()


@pytest.fixture
def served(database_url, app, supporter_history, at_risk_rows):
    """The app with CSRF on, on a loopback port; yields its base URL."""
    from tests.integration.conftest import serve

    url, server = serve(make_app(database_url, WTF_CSRF_ENABLED=True))
    yield url
    server.shutdown()
    server.server_close()


def staff_pages(data):
    """Every staff page but the appeal editor: name -> path (a supporter's page, as one row's
    link opens it, looks like the answer to a search)."""
    return {
        "overview": "/dashboard/?period=7d",
        "stories": "/dashboard/stories",
        "a story": f"/dashboard/stories/{data['long'].id}",
        "appeals": "/dashboard/appeals",
        "an appeal's report": f"/dashboard/appeals/{data['appeal'].id}",
        "contributions": "/dashboard/contributions",
        "recurring": "/dashboard/contributions/recurring",
        "users": "/dashboard/users",
        "supporters": "/dashboard/supporters",
        "a supporter": f"/dashboard/supporters/of-email/{data['messages']['given_up'].id}",
        "emails": "/dashboard/emails",
        "at risk": "/dashboard/at-risk",
        "at risk, months it cannot read": "/dashboard/at-risk?start=2026-13",
        "a period it cannot read": "/dashboard/stories?period=custom&start=2026-13-01",
    }


def sign_in(page, served):
    page.goto(f"{served}/dashboard/login")
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/dashboard/")


def each_page(page, served, pages, check):
    """Run `check(page)` on every page; fail once, with every page's problem."""
    problems = []
    for name, path in pages.items():
        page.goto(f"{served}{path}")
        try:
            check(page)
        except AssertionError as problem:
            problems.append(f"--- {name}: {problem}")
    assert not problems, "\n".join(problems)


@pytest.mark.a11y
def test_axe_finds_nothing_on_the_staff_pages(served, supporter_history, page):
    """No WCAG A/AA or best-practice violation: sign-in (fresh and failed), every staff
    page, and the new-account form showing its errors."""
    page.goto(f"{served}/dashboard/login")
    assert_no_axe_violations(page)
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert page.locator(".flash--error").count() == 1
    assert_no_axe_violations(page)

    sign_in(page, served)
    each_page(page, served, staff_pages(supporter_history), assert_no_axe_violations)

    page.goto(f"{served}/dashboard/users")
    page.click("text=Create account")
    assert page.locator(".field__error").count() >= 2
    assert_no_axe_violations(page)

    page.goto(f"{served}/dashboard/supporters")
    page.click("text=Find")
    assert page.locator(".field__error").count() == 1
    assert_no_axe_violations(page)
    page.fill("#email", "nobody@reader.example")
    page.click("text=Find")
    assert page.locator("text=Nothing is recorded").count() == 1
    assert_no_axe_violations(page)


def test_staff_pages_fit_from_320_to_1280_px(served, supporter_history, page):
    """At 320, 390, 768 and 1280 px no staff page scrolls sideways (wide tables scroll
    inside their own box)."""
    page.goto(f"{served}/dashboard/login")
    assert_fits(page)
    sign_in(page, served)
    each_page(page, served, staff_pages(supporter_history), assert_fits)


def test_every_focus_is_visible_on_the_staff_pages(served, supporter_history, page):
    """Tabbing through each page, every element that takes the focus shows it."""
    sign_in(page, served)

    def focus_shows(page):
        hidden = [stop.describe for stop in tab_order(page, max_tabs=120) if not stop.visible]
        assert not hidden, f"no visible focus on: {', '.join(hidden)}"

    each_page(page, served, staff_pages(supporter_history), focus_shows)


def test_staff_work_the_dashboard_with_the_keyboard(served, supporter_history, page):
    """Skip link, sign-in, navigation, a filter with the arrow keys, and a role change,
    all from the keyboard."""
    page.goto(f"{served}/dashboard/login")
    tab_to(page, ".skip-link")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{served}/dashboard/login#main")
    page.keyboard.press("Tab")  # on from <main>, past the masthead
    assert focused(page).describe == "input#email[name=email]"
    page.keyboard.type(ADMIN_EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(STAFF_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{served}/dashboard/#main")  # a redirect keeps the fragment

    tab_to(page, ".staff-nav a[href$='/contributions']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{served}/dashboard/contributions")
    tab_to(page, "select[name=status]")
    page.keyboard.press("ArrowDown")  # "any" -> the first status, without opening the list
    tab_to(page, ".filters button[type=submit]")
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(r".*status=pending.*"))
    assert page.locator("select[name=status]").input_value() == "pending"

    page.goto(f"{served}/dashboard/users")
    tab_to(page, f"#role-{supporter_history['editor'].id}")
    page.keyboard.press("ArrowDown")  # Editor -> Admin
    page.keyboard.press("Tab")
    assert focused(page).describe == 'button "Set role"'
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".flash").inner_text() == "editor@newsroom.example is now admin."


def test_staff_find_a_supporter_and_send_an_email_again_with_the_keyboard(served,
                                                                          supporter_history,
                                                                          page):
    """From the navigation to a supporter's page by their email, then Send again on their
    failed email, all from the keyboard; the address never shows in the URL."""
    sign_in(page, served)
    tab_to(page, ".staff-nav a[href$='/supporters']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{served}/dashboard/supporters")
    tab_to(page, "#email")
    page.keyboard.type(SUPPORTER.upper())
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{served}/dashboard/supporters"
    assert page.locator("h2.supporter-email").inner_text() == SUPPORTER.upper()
    assert page.locator("ul.changes li").count() == 5

    message = supporter_history["messages"]["given_up"]
    tab_to(page, f"form[action$='/emails/{message.id}/resend'] button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{served}/dashboard/supporters/of-email/{message.id}"
    assert page.locator(".flash").inner_text() == "The email is queued to be sent again."

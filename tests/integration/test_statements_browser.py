"""The statement download in a real Chromium: with the keyboard alone, on a 320 px phone."""
from datetime import UTC, datetime

import pytest

from supportapp.extensions import db
from supportapp.services.clock import current_time
from tests.a11y import assert_fits, focused, tab_to
from tests.integration.test_support_manage_browser import EMAIL, _signed_in, monthly  # noqa: F401
from tests.statement_helpers import gift, pdf_text, totals_in

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_statement_downloads_with_the_keyboard_alone(live, monthly, page):  # noqa: F811
    """Choose last year in the year list and press Enter on the button: the PDF of that
    year downloads, with its totals; the section fits a 320 px screen."""
    year = current_time().year - 1
    gift(EMAIL, 1250, "EUR", datetime(year, 3, 1, tzinfo=UTC))
    gift(EMAIL, 900, "GBP", datetime(year, 4, 1, tzinfo=UTC), refunded=400)
    db.session.commit()
    _signed_in(live, page)
    assert_fits(page)
    tab_to(page, "#statement-year")
    page.keyboard.press("ArrowDown")  # this year (so far) is first; last year next
    assert page.locator("#statement-year").input_value() == str(year)
    page.keyboard.press("Tab")
    assert focused(page).visible
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == f"statement-{year}.pdf"
    with open(download.value.path(), "rb") as file:
        text = pdf_text(file.read())
    assert totals_in(text) == {"EUR": ("€12.50", "€0.00", "€12.50"),
                               "GBP": ("£9.00", "£4.00", "£5.00")}

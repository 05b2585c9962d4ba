"""The statement PDF, downloaded by the supporter from the manage page and by staff from the
supporter page: the same statement the email carries, of the year chosen, theirs alone."""
import lxml.html
import pytest

from tests.statement_helpers import last_year, pdf_text, totals_in, two_currency_year
from tests.test_support_manage import sign_in

READER = "reader@example.com"
TOTALS = {"EUR": ("€45.50", "€5.50", "€40.00"), "GBP": ("£27.25", "£7.25", "£20.00")}


@pytest.fixture
def year(app):
    year = last_year()
    two_currency_year(READER, year)
    return year


def _year_choices(response):
    page = lxml.html.fromstring(response.data.decode())
    return [(o.get("value"), o.text_content()) for o in
            page.xpath("//select[@id='statement-year']/option")]


def _is_statement_pdf(response, year):
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == \
        f"attachment; filename=statement-{year}.pdf"
    assert response.headers["Cache-Control"] == "no-store"
    return pdf_text(response.data)


# --- the manage page ---------------------------------------------------------------------

def test_supporter_downloads_a_year_they_gave_in(client, year):
    """The page offers the years they gave in (newest first); the PDF is their statement of
    the chosen year, with the totals the email has."""
    sign_in(client)
    page = client.get("/support/manage/gifts")
    assert _year_choices(page) == [(str(year), str(year)), (str(year - 1), str(year - 1))]
    text = _is_statement_pdf(client.get(f"/support/manage/statement?year={year}"), year)
    assert totals_in(text) == TOTALS and f"For: {READER}" in text
    older = _is_statement_pdf(client.get(f"/support/manage/statement?year={year - 1}"),
                              year - 1)
    assert totals_in(older) == {"EUR": ("€99.00", "€0.00", "€99.00")}


def test_another_supporters_gifts_are_not_theirs(client, year):
    """Signed in as someone who gave only in April: their statement has their gift alone."""
    sign_in(client, "someone.else@example.com")
    text = _is_statement_pdf(client.get(f"/support/manage/statement?year={year}"), year)
    assert totals_in(text) == {"EUR": ("€66.00", "€0.00", "€66.00")}
    assert READER not in text


@pytest.mark.parametrize("query, status, words", [
    ("", 400, "Choose the year of the statement."),
    ("?year=twenty", 400, "Choose the year of the statement."),
    ("?year=1990", 404, "You gave no gift in 1990"),
    ("?year=99999", 404, "You gave no gift in 99999"),
])
def test_a_year_without_a_statement_is_explained(client, year, query, status, words):
    """No year, not a number, or a year they gave nothing in: the page again, saying so."""
    sign_in(client)
    response = client.get(f"/support/manage/statement{query}")
    assert response.status_code == status
    assert response.mimetype == "text/html" and words in response.data.decode()
    assert _year_choices(response)  # the choice is offered again


def test_download_needs_a_sign_in(client, year):
    response = client.get(f"/support/manage/statement?year={year}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/support/manage")


# --- the dashboard's supporter page ------------------------------------------------------

def test_staff_download_from_the_supporter_page(staff_client, year):
    """A viewer finds the supporter, picks a year, gets the same statement; the address
    goes in the POST body, never in a URL."""
    client = staff_client("viewer")
    page = client.post("/dashboard/supporters", data={"email": READER})
    assert _year_choices(page) == [(str(year), str(year)), (str(year - 1), str(year - 1))]
    form = lxml.html.fromstring(page.data.decode()).xpath(
        "//form[@action='/dashboard/supporters/statement']")[0]
    assert form.get("method") == "post"
    assert form.xpath(".//input[@name='supporter']/@value") == [READER]
    response = client.post("/dashboard/supporters/statement",
                           data={"supporter": READER.upper(), "year": str(year)})
    text = _is_statement_pdf(response, year)
    assert totals_in(text) == TOTALS


@pytest.mark.parametrize("data, status, words", [
    ({"supporter": READER, "year": ""}, 400, "Choose the year of the statement."),
    ({"supporter": READER, "year": "1999"}, 404, "No gift was paid from this address in 1999"),
    ({"supporter": "nobody@example.com", "year": "2020"}, 404, "Nothing is recorded for this"),
])
def test_staff_bad_year_is_explained(staff_client, year, data, status, words):
    response = staff_client("viewer").post("/dashboard/supporters/statement", data=data)
    assert response.status_code == status and words in response.data.decode()


def test_staff_without_an_address_gets_400(staff_client, year):
    response = staff_client("viewer").post("/dashboard/supporters/statement",
                                           data={"year": str(year)})
    assert response.status_code == 400


def test_staff_download_needs_a_sign_in(client, year):
    response = client.post("/dashboard/supporters/statement",
                           data={"supporter": READER, "year": str(year)})
    assert response.status_code in (302, 303) and "/dashboard/login" in response.location

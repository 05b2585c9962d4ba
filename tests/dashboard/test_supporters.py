"""The supporter page: one email's gifts, recurring supports, changes and emails, in words,
found by an exact (letter case aside) search that never puts the email in a URL."""
import logging
import re

import lxml.html
import pytest

from tests.dashboard.conftest import SMTP_REFUSED, SUPPORTER
from tests.dashboard.test_labels_shown import CODE


def _search(client, email):
    return client.post("/dashboard/supporters", data={"email": email})


def _text(response):
    page = lxml.html.fromstring(response.data.decode())
    for element in page.xpath("//code | //script"):
        element.drop_tree()
    return page, " ".join(page.text_content().split())


def _rows(page, region):
    """The cells' text of each body row of the table in the region labelled `region`."""
    table = page.xpath(f"//div[starts-with(@aria-label, '{region} (')]//table")[0]
    return [[" ".join(td.text_content().split()) for td in row.xpath("td")]
            for row in table.xpath("tbody/tr")]


def test_the_page_shows_each_thing_in_words(staff_client, supporter_history):
    """Gifts, the recurring support, every change as a sentence and every email with its
    status and error: words, no codes, and nothing of another reader."""
    response = _search(staff_client("viewer"), SUPPORTER)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page, text = _text(response)
    assert CODE.findall(text) == []
    assert page.xpath("//h2[@class='supporter-email']/text()") == [SUPPORTER]

    headings = [" ".join(h.text_content().split()) for h in page.xpath("//h3")]
    assert headings == ["Gifts (1)", "Year-end statements", "Recurring support (1)",
                        "Changes they made (5)", "Emails sent (5)"]
    [gift] = _rows(page, "Gifts")
    assert gift[1:5] == ["€5", "Monthly", "Paid",
                         "Story number 2 Appeal Winter drive, variant “count”"]
    [support] = _rows(page, "Recurring support")
    assert support[1:7] == ["€5 a month", "Monthly", "Active", "—", "—", "Story number 2"]

    changes = page.xpath("//ul[@class='changes']/li/text()")
    assert [c.strip() for c in changes] == [
        "Personal data erased", "Gift aid declared", "Cancelled: too expensive",
        "Paused for 2 months (resumes on January 5, 2027)",
        "Amount changed from €5 to €8 a month"]

    emails = _rows(page, "Emails sent")
    assert [row[1:3] for row in emails] == [
        ["Change confirmed", "Subject of confirm:1"],
        ["Receipt", "Subject of receipt:in_3"],
        ["Receipt", "Subject of receipt:in_2"],
        ["Sign-in link", "Your sign-in link"],
        ["Receipt", "Your receipt"]]
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"
    for row, status in zip(emails, (
            f"Queued Due {when}", "Sending A worker is sending it",
            f"Queued Failed 2 times; next try {when}", "Given up Failed 8 times; no more tries",
            f"Sent {when}"), strict=True):
        assert re.fullmatch(status, row[3]), row
    assert [row[4] for row in emails] == ["—", "—", "Connection refused", SMTP_REFUSED, "—"]

    for other in ("late@reader.example", "patron@reader.example", "Late receipt", "Resumed",
                  "Timed out", "€12.50"):
        assert other not in text


def test_a_support_that_cancels_shows_when_it_ends(staff_client, supporter_history):
    """A support cancelled at the end of its period shows the day it ends, then its
    cancellation; another reader's page shows only their own change."""
    from datetime import UTC, datetime

    from supportapp.extensions import db

    support = supporter_history["support"]
    support.status, support.cancelled_at = "canceled", datetime(2026, 12, 1, 9, tzinfo=UTC)
    db.session.commit()
    client = staff_client("viewer")
    page, _text_ = _text(_search(client, "late@reader.example"))
    [late] = _rows(page, "Recurring support")
    assert re.fullmatch(r"Past due Ends \d{4}-\d\d-\d\d", " ".join(late[3:5]))
    assert late[5] == "—"
    assert [c.strip() for c in page.xpath("//ul[@class='changes']/li/text()")] == ["Resumed"]
    page, _text_ = _text(_search(client, SUPPORTER))
    [kind] = _rows(page, "Recurring support")
    assert kind[3:6] == ["Cancelled", "—", "2026-12-01"]


@pytest.mark.parametrize("typed", [SUPPORTER, "KIND@READER.EXAMPLE", "  Kind@Reader.example "])
def test_the_search_ignores_letter_case_and_spaces_around(staff_client, supporter_history,
                                                          typed):
    """Any letter case of the whole address finds the supporter."""
    page, _text_ = _text(_search(staff_client("viewer"), typed))
    assert page.xpath("//h2[@class='supporter-email']/text()") == [typed.strip()]
    assert len(page.xpath("//ul[@class='changes']/li")) == 5


@pytest.mark.parametrize("typed", ["ind@reader.example", "kind@reader.exampl", "kind@reader",
                                   "%@reader.example", "kind@reader.exampl_", "kind"])
def test_the_search_is_exact(staff_client, supporter_history, typed):
    """Part of an address, or a LIKE pattern, finds nothing."""
    response = _search(staff_client("viewer"), typed)
    assert response.status_code == 200
    page, text = _text(response)
    assert "Nothing is recorded for this email address" in text
    assert page.xpath("//table") == []


@pytest.mark.parametrize("typed", ["", "   ", "a" * 310 + "@example.org"])
def test_a_blank_or_overlong_search_is_refused(staff_client, supporter_history, typed):
    """No address, or one past 320 characters: 400 with the reason beside the field."""
    response = _search(staff_client("viewer"), typed)
    assert response.status_code == 400
    page, _text_ = _text(response)
    assert page.xpath("//span[@class='field__error']")
    assert page.xpath("//h2") == []


def _urls(response):
    page = lxml.html.fromstring(response.data.decode())
    return [value for element in page.iter() if isinstance(element.tag, str)
            for name, value in element.attrib.items() if name in ("href", "action", "src")]


def test_no_email_travels_in_a_url(staff_client, supporter_history):
    """The search form POSTs; every link and form on the lists, the supporter page and the
    Emails page, and the redirect after sending again, name ids, never an address."""
    client = staff_client("admin")
    message = supporter_history["messages"]["given_up"]
    search = client.get("/dashboard/supporters")
    assert lxml.html.fromstring(search.data).xpath(
        "//form[@role='search']/@method") == ["post"]
    responses = [client.get(path) for path in (
        "/dashboard/contributions", "/dashboard/contributions/recurring", "/dashboard/emails",
        f"/dashboard/supporters/of-email/{message.id}")]
    responses.append(_search(client, SUPPORTER))
    urls = [url for response in responses for url in _urls(response)]
    assert any("/dashboard/supporters/of-" in url for url in urls)
    assert [url for url in urls if "@" in url or "%40" in url or "reader.example" in url] == []
    resent = client.post(f"/dashboard/emails/{message.id}/resend",
                         data={"next": f"/dashboard/supporters/of-email/{message.id}"})
    assert resent.headers["Location"] == f"/dashboard/supporters/of-email/{message.id}"


def _link(response, text):
    page = lxml.html.fromstring(response.data.decode())
    return page.xpath(f"//a[normalize-space()='{text}']/@href")[0]


@pytest.mark.parametrize("path", ["/dashboard/contributions",
                                  "/dashboard/contributions/recurring", "/dashboard/emails"])
def test_each_row_email_opens_that_supporter(staff_client, supporter_history, path):
    """The address in a row of the payments, the recurring supporters and the Emails page
    links to that supporter's page."""
    client = staff_client("admin")
    target = _link(client.get(path), SUPPORTER)
    assert re.fullmatch(r"/dashboard/supporters/of-(contribution|support|email)/\d+", target)
    page, _text_ = _text(client.get(target))
    assert page.xpath("//h2[@class='supporter-email']/text()") == [SUPPORTER]
    assert page.xpath("//input[@name='email']/@value") == [SUPPORTER]


def test_a_record_without_an_email_is_not_found(staff_client, supporter_history, app):
    """An id that names nothing, or a gift with no email, answers 404."""
    from supportapp.extensions import db
    from supportapp.models import Contribution

    gift = Contribution(amount_minor=700, currency="USD", frequency="one_off", status="paid")
    db.session.add(gift)
    db.session.commit()
    client = staff_client("viewer")
    for path in (f"/dashboard/supporters/of-contribution/{gift.id}",
                 "/dashboard/supporters/of-contribution/999999",
                 "/dashboard/supporters/of-support/999999",
                 "/dashboard/supporters/of-email/999999"):
        assert client.get(path).status_code == 404, path


def test_a_lookup_is_logged_without_the_address(staff_client, supporter_history, caplog):
    """The log says which staff member opened a supporter record, not whose."""
    client = staff_client("viewer")
    caplog.set_level(logging.INFO)
    _search(client, SUPPORTER)
    lines = [r.getMessage() for r in caplog.records]
    assert f"staff {client.staff.id} opened a supporter record" in lines
    assert not [line for line in lines if "reader.example" in line.lower()]

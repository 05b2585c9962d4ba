"""Staff read words, not the codes the app stores (one_off, past_due, partially_refunded)."""
import re

import lxml.html

from tests.dashboard.conftest import ADMIN_EMAIL

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def _words(client, path):
    """The page's text for people: Stripe ids (in <code>) and scripts left out."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    page = lxml.html.fromstring(response.data.decode())
    for element in page.xpath("//code | //script"):
        element.drop_tree()
    return page, " ".join(page.text_content().split())


def test_statuses_frequencies_and_roles_read_as_words(staff_client, varied_activity):
    """Tables, filters and the account bar show Partly refunded, Past due, One-off, Admin;
    no code with an underscore appears on any staff page."""
    client = staff_client("admin")
    pages = {path: _words(client, path) for path in (
        "/dashboard/?period=7d", "/dashboard/stories",
        f"/dashboard/stories/{varied_activity['long'].id}", "/dashboard/appeals",
        f"/dashboard/appeals/{varied_activity['appeal'].id}", "/dashboard/contributions",
        "/dashboard/contributions/recurring", "/dashboard/users")}
    for path, (_page, text) in pages.items():
        assert CODE.findall(text) == [], path

    page, _text = pages["/dashboard/contributions"]
    rows = [[cell.text_content().strip() for cell in row.xpath("td[position() <= 4]")]
            for row in page.xpath("//tbody/tr")]
    assert sorted((freq, status) for _day, _amount, freq, status in rows) == [
        ("Annual", "Partly refunded"), ("Monthly", "Paid"), ("One-off", "Paid")]
    assert [o.text for o in page.xpath("//select[@name='frequency']/option")] == [
        "any", "One-off", "Monthly", "Annual"]
    assert page.xpath("//select[@name='status']/option[@value='partially_refunded']/text()") \
        == ["Partly refunded"]

    page, text = pages["/dashboard/contributions/recurring"]
    assert [s.text for s in page.xpath("//tbody//span[contains(@class, 'status')]")] == [
        "Past due", "Active"]
    assert "Expired before payment" in text and "Cancelled" in text

    page, _text = pages["/dashboard/appeals"]
    assert sorted(s.text for s in page.xpath("//span[contains(@class, 'status')]")) == [
        "Draft", "Ended", "Live", "Paused"]

    page, text = pages["/dashboard/users"]
    assert page.xpath("//select[@id='role']/option/text()") == ["Viewer", "Editor", "Admin"]
    assert f"{ADMIN_EMAIL} Admin" in text
    assert "· Admin Sign out" in text

"""The number pages: overview, stories, a story, an appeal's variants, contributions."""
import json

import lxml.html
import pytest


def _page(response):
    assert response.status_code == 200, response.status_code
    return lxml.html.fromstring(response.data.decode())


def _chart(page, chart_id):
    (block,) = page.xpath(f"//script[@type='application/json'][@id='{chart_id}-data']")
    assert page.xpath(f"//canvas[@data-chart='{chart_id}-data']")
    return json.loads(block.text)


def test_overview_shows_money_and_a_chart(staff_client, activity):
    """Raised by currency, new recurring, active supporters and MRR; chart data in a JSON block."""
    page = _page(staff_client("viewer").get("/dashboard/?period=7d"))
    stats = {dt.text_content().strip(): dd.text_content().strip()
             for dt, dd in zip(page.xpath("//dt"), page.xpath("//dd"), strict=True)}
    (raised,) = page.xpath("//div[@class='stat'][dt='Raised']/dd")
    assert [span.text for span in raised.xpath("span[@class='money']")] == ["€5", "$12.50"]
    assert stats["New recurring supporters"] == "1"
    assert stats["Active recurring supporters (now)"] == "1"
    assert stats["Monthly recurring revenue (now)"] == "€5"
    chart = _chart(page, "raised-chart")
    assert len(chart["labels"]) == 7 and chart["type"] == "money"
    assert {d["label"]: sum(d["data"]) for d in chart["datasets"]} == {"EUR": 500, "USD": 1250}
    assert page.xpath("//script[contains(@src, 'vendor/chart.js/chart.umd.min.')]")  # hashed


@pytest.mark.parametrize("query, message", [
    ("period=custom&start=2026-02-01&end=2026-01-01", "the end date comes before the start"),
    ("period=custom&start=2026-02-30&end=2026-03-01", "start must be a date"),
    ("period=forever", "unknown period"),
    ("period=custom&start=2026-11-01&end=9999-12-31", "end must be a date from 2000-01-01"),
])
def test_nonsense_period_is_a_400_with_the_reason(staff_client, query, message):
    """A period the reports refuse shows their message on the page with status 400."""
    for url in ("/dashboard/", "/dashboard/stories", "/dashboard/contributions"):
        response = staff_client("viewer").get(f"{url}?{query}")
        assert response.status_code == 400
        assert message in response.data.decode()


def _story_order(client, query):
    page = _page(client.get(f"/dashboard/stories?{query}"))
    return [a.text for a in page.xpath("//tbody/tr/td[1]/a")]


def test_stories_sort_server_side_on_a_whitelist(staff_client, activity):
    """`sort` orders by a whitelisted column either way; anything else uses the default."""
    from tests.dashboard.conftest import EVIL_TITLE

    client = staff_client("viewer")
    assert _story_order(client, "sort=-viewable") == [EVIL_TITLE, "Story number 2"]
    assert _story_order(client, "sort=viewable") == ["Story number 2", EVIL_TITLE]
    assert _story_order(client, "sort=-revenue") == [EVIL_TITLE, "Story number 2"]  # USD first
    assert _story_order(client, "sort=__class__") == _story_order(client, "")


def test_story_page_has_funnel_and_daily_chart(staff_client, activity):
    """A story's page shows its funnel and a daily chart of each funnel step."""
    story = activity["evil"]
    page = _page(staff_client("viewer").get(f"/dashboard/stories/{story.id}?period=7d"))
    funnel = [li.text_content().split() for li in page.xpath("//ol[@class='funnel']/li")]
    assert funnel[:4] == [["100", "shown"], ["70", "viewable"], ["4", "clicks"],
                          ["2", "checkouts"]]
    chart = _chart(page, "funnel-chart")
    viewable = next(d for d in chart["datasets"] if d["label"] == "Viewable impressions")
    assert len(chart["labels"]) == 7 and viewable["data"][-1] == 70


def test_variants_page_compares_with_control(staff_client, activity):
    """An appeal's page lists each variant's funnel, interval and chance to beat control."""
    appeal = activity["appeal"]
    page = _page(staff_client("viewer").get(f"/dashboard/appeals/{appeal.id}?period=30d"))
    rows = {tr.xpath("string(th)").split()[0]: [td.text_content().strip() for td in tr.xpath("td")]
            for tr in page.xpath("(//table)[1]/tbody/tr")}  # the funnel table; lift below
    assert rows["control"][1] == "45" and rows["control"][7] == "control"
    assert rows["count"][1] == "30" and rows["count"][7].endswith("%")
    assert "–" in rows["control"][6]  # a 95% interval, low–high


def test_contributions_filter_and_link_to_stripe_test_mode(staff_client, activity):
    """Filters narrow the list; Stripe ids link to the Stripe Dashboard's test mode."""
    client = staff_client("viewer")
    page = _page(client.get("/dashboard/contributions?currency=USD"))
    assert len(page.xpath("//tbody/tr")) == 1
    links = page.xpath("//td[@class='ids']//a/@href")
    assert links == ["https://dashboard.stripe.com/test/payments/pi_test123",
                     "https://dashboard.stripe.com/test/customers/cus_test123"]
    found = _page(client.get("/dashboard/contributions?q=kind@reader"))
    assert "kind@reader.example" in found.text_content() and len(found.xpath("//tbody/tr")) == 1
    by_story = _page(client.get("/dashboard/contributions?story=quiet&status=refunded"))
    assert "No contributions match." in by_story.text_content()


def test_stripe_links_drop_test_for_live_keys(app):
    """With a live key the Stripe Dashboard links have no /test part."""
    from supportapp.blueprints.dashboard.reporting import stripe_url

    with app.test_request_context():
        assert stripe_url("subscription", "sub_1") == \
            "https://dashboard.stripe.com/test/subscriptions/sub_1"
        app.config["STRIPE_SECRET_KEY"] = "sk_live_abc"
        assert stripe_url("subscription", "sub_1") == \
            "https://dashboard.stripe.com/subscriptions/sub_1"
        assert stripe_url("charge", "ch_1") is None


def test_recurring_supporters_with_status(staff_client, activity):
    """The recurring page lists supporters with their status; the filter narrows it."""
    client = staff_client("viewer")
    page = _page(client.get("/dashboard/contributions/recurring"))
    (row,) = page.xpath("//tbody/tr")
    assert "Active" in row.text_content() and "€5" in row.text_content()
    assert row.xpath(".//a[@href='https://dashboard.stripe.com/test/subscriptions/sub_test123']")
    empty = _page(client.get("/dashboard/contributions/recurring?status=canceled"))
    assert "No recurring supporters match." in empty.text_content()


def test_variants_page_plans_and_says_when_it_cannot_tell(staff_client, activity):
    """With a handful of impressions, the page gives the impressions and days still needed
    and says in words that it cannot tell yet, instead of naming a winner."""
    appeal = activity["appeal"]
    page = _page(staff_client("viewer").get(f"/dashboard/appeals/{appeal.id}?period=30d"))
    rows = {tr.xpath("string(th)").split()[0]: [td.text_content().strip() for td in tr.xpath("td")]
            for tr in page.xpath("(//table)[1]/tbody/tr")}
    # Control: 1 new gift in 45 viewable (2.2222%), lifted 2.6667%: h = 2 asin(sqrt .026667)
    # - 2 asin(sqrt .022222) = 0.0288101, n = 2 (2.801585 / h)^2 = 18,912.5 -> 18,913 each.
    # Still to come: 18,883 for the variant (30 so far) and 18,868 for the control (45); in
    # 30 days the variant saw 1 a day, so 18,883 days (the control, 1.5 a day: 12,579).
    assert rows["count"][-4:] == ["18,913", "37,751", "18,883",
                                  "Can't tell yet: too few viewable impressions to tell "
                                  "these apart"]
    assert rows["control"][-1] == "Control"
    assert "Fixed weights" in page.text_content()


def test_variants_page_shows_the_bandits_shares(staff_client, activity):
    """Under a bandit the page says so, with when it was last re-weighted and the shares."""
    from datetime import UTC, datetime

    from supportapp.extensions import db
    from supportapp.models import BanditAllocation

    appeal = activity["appeal"]
    appeal.allocation, appeal.floor_percent = "bandit", 10
    control, challenger = appeal.variants
    db.session.add(BanditAllocation(
        appeal_id=appeal.id, shares={str(control.id): 1250, str(challenger.id): 8750},
        day_shares={}, computed_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC), impressions=75))
    db.session.commit()
    page = _page(staff_client("viewer").get(f"/dashboard/appeals/{appeal.id}?period=30d"))
    text = " ".join(page.text_content().split())
    assert "Bandit: more readers to the variant earning most" in text
    assert "Last re-weighted 2026-11-20 09:30 UTC on 75 viewable impressions" in text
    assert "each variant keeps at least 10%" in text
    assert "control 12.5%, count 87.5%" in text

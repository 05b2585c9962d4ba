"""Gross, fees, refunds and net per story and variant, and lifetime value per 1,000 shown,
on payments whose figures were worked out by hand."""
from datetime import UTC, date, datetime, timedelta

import pytest
from lxml import html

from supportapp.extensions import db
from supportapp.models import Contribution
from supportapp.services.net_revenue import (
    NetMoney,
    lifetime_values,
    money_by_story,
    money_by_variant,
)
from supportapp.services.periods import parse_period
from supportapp.services.staff import create_token
from supportapp.services.tracking import TrackedEvent, record_events, roll_up

TODAY = date(2026, 11, 20)
NOON = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def paid(app, drive_appeal, make_story):
    appeal = drive_appeal
    control, challenger = appeal.variants
    a, b = make_story(slug="story-a"), make_story(slug="story-b")
    record_events([TrackedEvent("rendered", a.id, appeal.id, control.id)] * 2000, now=NOON)
    record_events([TrackedEvent("rendered", a.id, appeal.id, control.id)] * 1000,
                  now=NOON - timedelta(days=200))  # shown long ago: counts for the lifetime

    def pay(story, variant, amount, fee, offset=0, currency="USD", **fields):
        db.session.add(Contribution(
            amount_minor=amount, currency=currency, frequency="one_off", status="paid",
            fee_minor=fee, story_id=story.id, appeal_id=appeal.id, variant_id=variant.id,
            paid_at=NOON + timedelta(days=offset), **fields))

    pay(a, control, 1000, 59)  # $10.00, fee 2.9% + 30c
    pay(a, control, 500, 45, amount_refunded_minor=200)  # $5, $2 refunded, Stripe keeps 45c
    pay(a, challenger, 1000, 59, disputed_minor=1000, dispute_fee_minor=1500)  # disputed
    pay(a, challenger, 500, 28, currency="GBP")  # £5, 1.5% + 20p
    pay(a, control, 2000, 88, offset=-100)  # a renewal paid long ago: lifetime only
    pay(b, control, 700, None)  # recorded before fees were: unknown
    db.session.commit()
    roll_up()  # the daily counts reports read (done in the background in production)
    return {"appeal": appeal, "a": a, "b": b, "control": control, "challenger": challenger}


def test_money_per_story(paid):
    money = money_by_story(parse_period("30d", None, None, TODAY))
    a, b = money[paid["a"].id], money[paid["b"].id]
    # USD: gross 10 + 5 + 10; fees 59 + 45 + 59 + 1500; refunds 2 + 10 (the dispute)
    assert a["USD"] == NetMoney(gross=2500, known_fees=1663, refunds=1200, fee_unknown=0)
    assert a["USD"].net == 2500 - 1200 - 1663 == -363
    assert (a["GBP"].gross, a["GBP"].fees, a["GBP"].net) == (500, 28, 472)
    assert (b["USD"].gross, b["USD"].fees, b["USD"].net, b["USD"].fee_unknown) == (
        700, None, None, 1)


def test_money_per_variant(paid):
    money = money_by_variant(paid["appeal"].id, parse_period("30d", None, None, TODAY))
    control, challenger = money[paid["control"].id], money[paid["challenger"].id]
    # control: 10.00 and 5.00 on story a, 7.00 on story b whose fee is unknown
    assert control["USD"].as_record() == {
        "gross": 2200, "fees": None, "refunds": 200, "net": None, "payments_fee_unknown": 1}
    assert control["USD"].known_fees == 104
    assert challenger["USD"].as_record() == {
        "gross": 1000, "fees": 1559, "refunds": 1000, "net": -1559, "payments_fee_unknown": 0}
    assert challenger["GBP"].net == 472


def test_lifetime_value_per_thousand_shown(paid):
    value = lifetime_values([paid["a"].id])[paid["a"].id]
    assert value.shown == 3000
    # all time, USD: gross 10 + 5 + 10 + 20 = 45.00; net -3.63 + (20.00 - 0.88) = 15.49
    assert value.money["USD"].gross == 4500 and value.money["USD"].net == 1549
    # per 1,000 shown: 4500 / 3 = 1500; 1549 / 3 = 516.33 -> 516; GBP 472 / 3 = 157.33 -> 157
    assert value.per_thousand_shown("gross") == {"USD": 1500, "GBP": 167}
    assert value.per_thousand_shown("net") == {"USD": 516, "GBP": 157}
    never_shown = lifetime_values([paid["b"].id])[paid["b"].id]
    assert never_shown.shown == 0 and never_shown.per_thousand_shown() == {}


PERIOD = "period=custom&start=2026-10-22&end=2026-11-20"


def test_api_gives_money_and_lifetime(client, make_staff, paid):
    token = create_token(make_staff("viewer"), "tests")
    headers = {"Authorization": f"Bearer {token}"}
    stories = client.get(f"/api/reports/stories?{PERIOD}", headers=headers).json["stories"]
    a = next(s for s in stories if s["story_id"] == paid["a"].id)
    assert a["money"]["USD"] == {"gross": 2500, "fees": 1663, "refunds": 1200, "net": -363,
                                 "payments_fee_unknown": 0}
    assert a["lifetime"]["shown"] == 3000
    assert a["lifetime"]["net_per_thousand_shown"] == {"GBP": 157, "USD": 516}
    b = next(s for s in stories if s["story_id"] == paid["b"].id)
    assert b["money"]["USD"]["net"] is None and b["lifetime"]["net_per_thousand_shown"] == {}
    variants = client.get(f"/api/reports/variants?appeal={paid['appeal'].id}&{PERIOD}",
                          headers=headers).json["variants"]
    challenger = next(v for v in variants if v["variant_id"] == paid["challenger"].id)
    assert challenger["money"]["USD"]["net"] == -1559


def _net_table(response):
    assert response.status_code == 200
    page = html.fromstring(response.data)
    [table] = page.xpath("//h2[@id='net-money']/following-sibling::div[1]//table")
    return {tr.xpath("string(th)").strip(): [td.text_content().strip() for td in tr.xpath("td")]
            for tr in table.xpath("tbody/tr")}


def test_pages_show_money_formatted(staff_client, paid):
    viewer = staff_client("viewer")
    stories = _net_table(viewer.get(f"/dashboard/stories?{PERIOD}"))
    # one line per currency, GBP before USD: gross, fees, refunds, net, shown, per 1,000
    assert stories[paid["a"].title] == ["£5$25", "£0.28$16.63", "£0$12", "£4.72-$3.63",
                                        "3000", "£1.57$5.16", "£1.67$15"]
    assert stories[paid["b"].title][3] == "unknown"
    story = _net_table(viewer.get(f"/dashboard/stories/{paid['b'].id}?{PERIOD}"))
    assert list(story.values()) == [["$7", "unknown", "$0", "unknown", "0", "—", "—"]]
    variants = _net_table(viewer.get(f"/dashboard/appeals/{paid['appeal'].id}?{PERIOD}"))
    assert variants["challenger"] == ["£5$10", "£0.28$15.59", "£0$10", "£4.72-$15.59"]
    assert variants["control (control)"][3] == "unknown"

"""Report numbers on a scripted set of events and payments, checked against hand counts."""
from datetime import UTC, date, datetime, timedelta

import pytest

from supportapp.extensions import db
from supportapp.models import Contribution, RecurringSupport
from supportapp.services.periods import ReportError, parse_period
from supportapp.services.reports import stories_table, story_report, variants_table
from supportapp.services.revenue import overview
from supportapp.services.tracking import TrackedEvent, record_events, roll_up

TODAY = date(2026, 11, 20)
NOON = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def scripted(app, drive_appeal, make_story):
    """Two stories, an appeal with a control and a challenger, events and payments."""
    appeal = drive_appeal
    control, challenger = appeal.variants
    a, b = make_story(slug="story-a"), make_story(slug="story-b")
    plan = [  # (story, variant, kind, how many, day offset)
        (a, control, "rendered", 1000, 0), (a, control, "view", 400, 0),
        (a, control, "click", 20, 0), (a, control, "checkout", 8, 0),
        (a, challenger, "rendered", 1000, 0), (a, challenger, "view", 500, 0),
        (a, challenger, "click", 40, 0), (a, challenger, "checkout", 12, 0),
        (b, control, "rendered", 300, -1), (b, control, "view", 100, -1),
        (a, control, "view", 50, -40),  # outside a 30-day period
    ]
    for story, variant, kind, count, offset in plan:
        events = [TrackedEvent(kind, story.id, appeal.id, variant.id) for _ in range(count)]
        record_events(events, now=NOON + timedelta(days=offset))
    roll_up()  # reports read only what a roll-up folded (the worker's job in production)

    def pay(story, variant, amount, frequency, reason=None, refunded=0, offset=0, currency="USD"):
        db.session.add(Contribution(
            amount_minor=amount, currency=currency, frequency=frequency, status="paid",
            amount_refunded_minor=refunded, billing_reason=reason, story_id=story.id,
            appeal_id=appeal.id, variant_id=variant.id, paid_at=NOON + timedelta(days=offset)))

    pay(a, control, 1000, "one_off")
    pay(a, control, 500, "monthly", "subscription_create")
    pay(a, control, 500, "monthly", "subscription_cycle", offset=-1)  # a renewal
    pay(a, challenger, 2500, "one_off", refunded=500)
    pay(a, challenger, 500, "monthly", "subscription_create")
    pay(a, challenger, 5000, "annual", "subscription_create")
    pay(a, challenger, 800, "one_off", currency="EUR")
    pay(b, control, 300, "one_off", offset=-1)
    pay(b, control, 999, "one_off", offset=-45)  # outside the period
    db.session.add(RecurringSupport(stripe_subscription_id="sub_1", amount_minor=500,
                                    currency="USD", interval="month", status="active"))
    db.session.add(RecurringSupport(stripe_subscription_id="sub_2", amount_minor=5000,
                                    currency="USD", interval="year", status="active"))
    db.session.add(RecurringSupport(stripe_subscription_id="sub_3", amount_minor=700,
                                    currency="USD", interval="month", status="canceled",
                                    cancelled_at=NOON))
    db.session.commit()
    return appeal, control, challenger, a, b


def test_stories_table_matches_hand_counts(scripted):
    """Per-story funnel, conversion, revenue and RPM match hand-computed values."""
    period = parse_period("30d", None, None, TODAY)
    rows = {r.slug: r for r in stories_table(period)}
    a = rows["story-a"]
    assert (a.rendered, a.viewable, a.clicks, a.checkouts) == (2000, 900, 60, 20)
    assert a.contributions == 7 and a.conversions == 6 and a.recurring_won == 3
    assert a.revenue == {"USD": 1000 + 500 + 500 + 2000 + 500 + 5000, "EUR": 800}
    assert a.conversion_rate == pytest.approx(6 / 900)
    assert a.rpm == {"USD": 10556, "EUR": 889}  # 9500*1000/900 = 10555.6, 800000/900 = 888.9
    b = rows["story-b"]
    assert (b.rendered, b.viewable, b.contributions, b.revenue) == (300, 100, 1, {"USD": 300})


def test_variants_table_matches_hand_counts(scripted):
    """Per-variant funnel, annualised value per 1,000 views and statistics by hand."""
    appeal, control, challenger, _a, _b = scripted
    rows = {r.name: r for r in variants_table(appeal.id, parse_period("30d", None, None, TODAY))}
    c, x = rows["control"], rows["challenger"]
    assert (c.viewable, c.conversions) == (500, 3)  # 400 + 100 views; a one-off, a monthly, b's
    assert (x.viewable, x.conversions) == (500, 4)
    # Control new gifts: 1000 + 500*12 + 300 = 7300 USD -> 7300*1000/500 = 14600 per 1,000.
    assert c.annualised_per_thousand == {"USD": 14600}
    # Challenger: (2500-500) + 500*12 + 5000 = 13000 USD; 800 EUR.
    assert x.annualised_per_thousand == {"USD": 26000, "EUR": 1600}
    # Wilson 95% interval for 3/500, from the textbook formula: 0.002043 to 0.017490.
    assert c.ci_low == pytest.approx(0.002042, abs=1e-5)
    assert c.ci_high == pytest.approx(0.017490, abs=1e-5)
    assert c.chance_beats_control is None
    # P(Beta(5, 497) > Beta(4, 498)), checked by Monte Carlo with 4 million draws: 0.6369.
    assert x.chance_beats_control == pytest.approx(0.637, abs=0.004)


def test_story_report_daily_points(scripted):
    """The story's daily series puts each count and payment on its own day."""
    _appeal, _c, _x, a, _b = scripted
    row, points = story_report(a.id, parse_period("7d", None, None, TODAY))
    assert row.viewable == 900
    by_day = {p.day: p for p in points}
    assert len(points) == 7
    assert by_day[TODAY].viewable == 900 and by_day[TODAY].contributions == 6
    assert by_day[TODAY - timedelta(days=1)].revenue == {"USD": 500}


def test_overview_money_and_supporters(scripted):
    """Overview totals, new recurring, cancellations, active supporters and MRR."""
    result = overview(parse_period("30d", None, None, TODAY))
    assert result.raised == {"USD": 9800, "EUR": 800}
    assert result.one_off == {"USD": 1000 + 2000 + 300, "EUR": 800}
    assert result.recurring == {"USD": 500 + 500 + 500 + 5000}
    assert (result.new_recurring, result.cancellations, result.active_recurring) == (3, 1, 2)
    assert result.mrr == {"USD": 500 + 417}  # 5000 a year is 416.67 a month
    assert dict(result.daily)[TODAY] == {"USD": 9000, "EUR": 800}


@pytest.mark.parametrize("name, start, end", [
    ("weekly", None, None), ("custom", "2026-13-01", "2026-12-01"),
    ("custom", "2026-11-10", "2026-11-01"), ("custom", "2020-01-01", "2026-01-01"),
    ("custom", None, "2026-01-01"),
])
def test_nonsense_periods_refused(name, start, end):
    """Unknown names, bad dates, reversed or overlong ranges raise a clear ReportError."""
    with pytest.raises(ReportError):
        parse_period(name, start, end, TODAY)


@pytest.mark.parametrize("start, end, message", [
    ("9999-12-01", "9999-12-31", "start must be a date from 2000-01-01 to 2027-11-21"),
    ("2026-11-01", "9999-12-31", "end must be a date from 2000-01-01 to 2027-11-21"),
    ("0001-01-01", "0001-01-02", "start must be a date from 2000-01-01"),
])
def test_far_off_dates_refused(start, end, message):
    """Dates before 2000 or more than a year ahead: a ReportError saying the range, no overflow."""
    with pytest.raises(ReportError, match=message):
        parse_period("custom", start, end, TODAY)


def test_period_up_to_a_year_ahead_is_fine():
    """The last day allowed is a year (366 days) after today; its bounds compute."""
    period = parse_period("custom", "2027-11-01", "2027-11-21", TODAY)
    assert period.bounds[1] == datetime(2027, 11, 22, tzinfo=UTC)

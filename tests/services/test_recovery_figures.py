"""What is at risk and what was won back: hand-counted figures across month boundaries and
currencies, the past-due and expiring-card lists, and months that make no sense."""
import itertools
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from supportapp.extensions import db
from supportapp.models import OutboxMessage, PaymentFailure, RecurringSupport
from supportapp.services.periods import ReportError
from supportapp.services.recovery_figures import (
    Figures,
    Months,
    expiring_cards,
    monthly_figures,
    outcome,
    parse_months,
    past_due,
)

_ids = itertools.count(1)


def at(*parts, tz=UTC):
    return datetime(*parts, tzinfo=tz)


def support(**fields):
    n = next(_ids)
    values = {"stripe_subscription_id": f"sub_risk{n:04d}", "amount_minor": 500,
              "currency": "USD", "interval": "month", "status": "active",
              "email": f"reader{n}@example.com"}
    row = RecurringSupport(**{**values, **fields})
    db.session.add(row)
    db.session.flush()
    return row


def failure(first_failed_at, currency="USD", amount=500, recovered_at=None, lost_at=None,
            of=None, **fields):
    of = of or support(currency=currency, amount_minor=amount)
    row = PaymentFailure(recurring_support_id=of.id,
                         stripe_invoice_id=fields.pop("invoice", f"in_risk{next(_ids):04d}"),
                         amount_minor=amount, currency=currency,
                         first_failed_at=first_failed_at, last_failed_at=first_failed_at,
                         recovered_at=recovered_at, lost_at=lost_at, **fields)
    db.session.add(row)
    db.session.flush()
    return row


def email(key, status="sent", kind="payment_failed", created_at=None):
    row = OutboxMessage(key=key, kind=kind, to_address="reader@example.com", subject=key,
                        text_body="x", html_body="<p>x</p>", message_id=f"<{key}@test>",
                        status=status, attempts=1 if status == "sent" else 0,
                        created_at=created_at or at(2026, 2, 1),
                        sent_at=at(2026, 2, 1) if status == "sent" else None)
    db.session.add(row)
    db.session.flush()
    return row


# --- months --------------------------------------------------------------------------


NOW = at(2026, 11, 15, 10)


@pytest.mark.parametrize("start, end, first, last", [
    (None, None, date(2025, 12, 1), date(2026, 11, 1)),  # the last 12 months by default
    ("2026-03", None, date(2026, 3, 1), date(2026, 11, 1)),
    (None, "2026-02", date(2025, 3, 1), date(2026, 2, 1)),
    (" 2024-01 ", "2026-12", date(2024, 1, 1), date(2026, 12, 1)),  # 36 months
    ("2026-05", "2026-05", date(2026, 5, 1), date(2026, 5, 1)),
    ("2000-01", "2000-03", date(2000, 1, 1), date(2000, 3, 1)),
    (None, "2000-03", date(2000, 1, 1), date(2000, 3, 1)),  # never before 2000
    ("2027-11", "2027-11", date(2027, 11, 1), date(2027, 11, 1)),  # a year ahead at most
])
def test_months_asked_for(start, end, first, last):
    assert parse_months(start, end, NOW) == Months(first, last)


@pytest.mark.parametrize("start, end, message", [
    ("2026-13", None, "start must be a month like 2026-03"),
    ("2026-00", None, "start must be a month like 2026-03"),
    ("2026-1", None, "start must be a month like 2026-03"),
    ("26-01", None, "start must be a month like 2026-03"),
    ("2026-01-01", None, "start must be a month like 2026-03"),
    ("２０２６-01", None, "start must be a month like 2026-03"),
    (None, "March", "end must be a month like 2026-03"),
    ("1999-12", None, "start must be a month from 2000-01 to 2027-11"),
    (None, "2027-12", "end must be a month from 2000-01 to 2027-11"),
    ("9999-12", None, "start must be a month from 2000-01 to 2027-11"),
    ("2026-05", "2026-04", "the end month comes before the start month"),
    ("2023-12", "2026-12", "at most 36 months at a time"),
])
def test_months_that_make_no_sense_say_why(start, end, message):
    with pytest.raises(ReportError) as caught:
        parse_months(start, end, NOW)
    assert str(caught.value) == message


def test_a_months_bounds_and_label():
    months = Months(date(2025, 11, 1), date(2026, 2, 1))
    assert months.bounds == (at(2025, 11, 1), at(2026, 3, 1))
    assert [m.month for m in months.each()] == [11, 12, 1, 2]
    assert months.label == "2025-11 to 2026-02"
    assert Months(date(2026, 12, 1), date(2026, 12, 1)).bounds[1] == at(2027, 1, 1)


# --- monthly figures -----------------------------------------------------------------


def test_outcome_of_a_failed_renewal():
    first = at(2026, 2, 1)
    assert outcome(first, first + timedelta(days=30), None) == "recovered"
    assert outcome(first, first + timedelta(days=30, seconds=1), None) == "recovered_late"
    assert outcome(first, None, first + timedelta(days=3)) == "lost"
    assert outcome(first, None, None) == "open"


def _figures(failed, recovered=0, recovered_late=0, lost=0, open=0, money_recovered=0):
    return Figures(failed, recovered, recovered_late, lost, open, money_recovered)


def test_monthly_figures_counted_by_hand(app):
    """Failures at the edges of months, in three currencies, with every outcome; each is
    counted in the UTC month it first failed, and its amount only when recovered in time."""
    failure(at(2025, 12, 31, 23, 59, 59), amount=999)  # before the range
    failure(at(2026, 1, 31, 23, 59, 59), amount=500, recovered_at=at(2026, 2, 10))
    # February 2026 has 28 days: 30 days after Feb 1 is Mar 3.
    failure(at(2026, 2, 1), amount=700, recovered_at=at(2026, 3, 3))
    failure(at(2026, 2, 1), amount=900, recovered_at=at(2026, 3, 3, 0, 0, 1))
    failure(at(2026, 2, 14), "EUR", 1000, lost_at=at(2026, 3, 1))
    failure(at(2026, 2, 20), "EUR", 1200)
    failure(at(2026, 2, 28, 23), "GBP", 300, recovered_at=at(2026, 3, 1))
    # 01:00 on March 1st in UTC+2 is still February in UTC.
    failure(at(2026, 3, 1, 1, tz=timezone(timedelta(hours=2))), "GBP", 400)
    failure(at(2026, 3, 15), "EUR", 1500, recovered_at=at(2026, 3, 16))
    failure(at(2026, 4, 1), amount=111)  # after the range
    db.session.commit()

    report = monthly_figures(Months(date(2026, 1, 1), date(2026, 3, 1)))
    assert [row.key for row in report.rows] == ["2026-01", "2026-02", "2026-03"]
    assert [row.by_currency for row in report.rows] == [
        {"USD": _figures(1, recovered=1, money_recovered=500)},
        {"EUR": _figures(2, lost=1, open=1),
         "GBP": _figures(2, recovered=1, open=1, money_recovered=300),
         "USD": _figures(2, recovered=1, recovered_late=1, money_recovered=700)},
        {"EUR": _figures(1, recovered=1, money_recovered=1500)},
    ]
    assert report.totals == {
        "EUR": _figures(3, recovered=1, lost=1, open=1, money_recovered=1500),
        "GBP": _figures(2, recovered=1, open=1, money_recovered=300),
        "USD": _figures(3, recovered=2, recovered_late=1, money_recovered=1200),
    }
    for figures in report.totals.values():
        assert figures.failed == (figures.recovered + figures.recovered_late + figures.lost
                                  + figures.open)


def test_months_without_failures_are_listed_empty(app):
    report = monthly_figures(Months(date(2026, 1, 1), date(2026, 2, 1)))
    assert [(row.key, row.by_currency) for row in report.rows] == [("2026-01", {}),
                                                                   ("2026-02", {})]
    assert report.totals == {}


# --- at risk now ---------------------------------------------------------------------


def test_past_due_lists_open_failures_with_their_emails(app):
    """An open failure with its recovery emails (not another invoice's, even one whose id
    starts the same or matches as a LIKE pattern); a past-due gift with no failure recorded;
    never a recovered, lost or ended one."""
    chased = failure(at(2026, 2, 3), reason="insufficient_funds", invoice="in_1",
                     next_retry_at=at(2026, 2, 6), attempt_count=2)
    first = email("recovery:in_1", created_at=at(2026, 2, 3))
    second = email("recovery:in_1:day3", status="queued", created_at=at(2026, 2, 6))
    email("recovery:in_10", kind="other")  # another invoice
    email("recovery:inX1:day3", kind="other")  # `_` is not a wildcard here
    email("recovery_in_1", kind="other")
    stripe_says = support(status="past_due", status_at=at(2026, 2, 1))
    failure(at(2026, 1, 5), recovered_at=at(2026, 1, 8))
    failure(at(2026, 1, 5), lost_at=at(2026, 1, 30), of=support(status="canceled"))
    failure(at(2026, 1, 6), of=support(status="canceled"))  # ended, whatever the failure says
    support(status="unpaid", email=None)
    db.session.commit()

    rows, total = past_due()
    assert total == 3
    by_support = {row.support.id: row for row in rows}
    assert by_support[chased.recurring_support_id].failure.id == chased.id
    assert [m.id for m in by_support[chased.recurring_support_id].emails] == [first.id,
                                                                              second.id]
    assert by_support[stripe_says.id].failure is None
    assert by_support[stripe_says.id].emails == []
    # The longest in trouble first: past due since Feb 1, failed on Feb 3, then the gift
    # whose trouble has no date but its creation (today).
    assert [r.support.id for r in rows][:2] == [stripe_says.id, chased.recurring_support_id]


def test_past_due_pages(app):
    for day in range(1, 6):
        failure(at(2026, 2, day))
    db.session.commit()
    first, total = past_due(page=1, per_page=2)
    last, _ = past_due(page=3, per_page=2)
    assert total == 5 and len(first) == 2 and len(last) == 1
    assert first[0].failure.first_failed_at < first[1].failure.first_failed_at \
        < last[0].failure.first_failed_at


def _card_gift(month, year, **fields):
    return support(card_exp_month=month, card_exp_year=year,
                   current_period_end=at(2030, 4, 5), **fields)


def test_cards_expiring_within_30_days(app):
    """On 10 March 2030 (30 days: to 9 April): March cards (ending 1 April) and cards
    already expired are at risk; April cards are not yet; ended gifts and unknown cards
    never."""
    march, expired, long_ago = _card_gift(3, 2030), _card_gift(2, 2030), _card_gift(12, 2029)
    _card_gift(4, 2030)
    _card_gift(3, 2030, cancel_at_period_end=True)
    _card_gift(3, 2030, status="canceled")
    _card_gift(13, 2030)
    support()
    told = email(f"card_expiring:{march.stripe_subscription_id}:2030-03",
                 kind="card_expiring")
    email(f"card_expiring:{march.stripe_subscription_id}0:2030-03", kind="card_expiring")
    db.session.commit()

    rows, total = expiring_cards(at(2030, 3, 10))
    assert total == 3
    assert [(r.support.id, r.card.key, r.expired) for r in rows] == [
        (long_ago.id, "2029-12", True), (expired.id, "2030-02", True),
        (march.id, "2030-03", False)]
    assert [m.id for m in rows[2].emails] == [told.id] and rows[0].emails == []


@pytest.mark.parametrize("now, listed", [
    (at(2030, 3, 2), True),  # 30 days later is 1 April: the card has stopped by then
    (at(2030, 3, 1, 23), False),  # 30 days later is still 31 March
])
def test_a_card_expiring_at_the_month_boundary(app, now, listed):
    _card_gift(3, 2030)
    db.session.commit()
    assert expiring_cards(now)[1] == (1 if listed else 0)


def test_a_long_page_finds_every_gifts_emails(app):
    """Emails are looked up for a page of 520 failures at once (the API's pages are 500):
    SQLite's limit on an expression's depth is never reached."""
    for n in range(520):
        failure(at(2026, 2, 1) + timedelta(minutes=n), invoice=f"in_many{n:04d}",
                of=support(email=None))
        email(f"recovery:in_many{n:04d}")
    db.session.commit()
    rows, total = past_due(per_page=520)
    assert total == 520 and all(len(row.emails) == 1 for row in rows)
    assert rows[-1].emails[0].key == "recovery:in_many0519"

"""Conversions a funnel can hold: readers who gave, never more than the funnel's checkouts.

A rate divides people by people. Payments are not people: one reader can pay three times
in a day (a one-off, then a monthly gift), and a gift can be paid after its checkout was
lost (a database outage while counting it, a reader who paid past midnight). So the rate's
numerator is the readers with a new gift, counted like the funnel's stages (once per reader,
day, story and variant) and at most the funnel's own checkouts; payments and money stay
separate figures. Gifts without a reader id (Do Not Track) each count as a reader.
"""
from datetime import UTC

from sqlalchemy import Date, cast, distinct, func, or_, select

from supportapp.extensions import db
from supportapp.models import Contribution


def new_gift():
    """The SQL condition for a new gift: a one-off payment or the first of a subscription
    (renewals are money, not new conversions)."""
    return or_(Contribution.frequency == "one_off",
               Contribution.billing_reason == "subscription_create")


def _utc_day(value):
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.date()


def _utc_day_sql(column):
    # SQLite keeps UTCDateTime as UTC text ("YYYY-MM-DD HH:MM:SS…"); PostgreSQL's date of a
    # timestamptz would follow the session's time zone, so it is taken at UTC explicitly.
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.substr(column, 1, 10)


def _gift_conditions(period, conditions):
    start, end = period.bounds
    return (Contribution.paid_at >= start, Contribution.paid_at < end, new_gift(), *conditions)


def add_giving_readers(funnels, group_column, period, *conditions):
    """Add to each funnel's `giving_readers` the readers with a new gift paid in the period,
    once per reader, day, story and variant (as the stages count them), grouped by
    group_column; counted by the database."""
    where = _gift_conditions(period, conditions)
    per_reader = (
        select(group_column.label("grp"),
               func.count(distinct(_utc_day_sql(Contribution.paid_at))).label("days"))
        .where(*where, Contribution.reader_id.is_not(None))
        .group_by(group_column, Contribution.story_id, Contribution.variant_id,
                  Contribution.reader_id)
        .subquery())
    named = db.session.execute(select(per_reader.c.grp, func.sum(per_reader.c.days))
                               .group_by(per_reader.c.grp))
    anonymous = db.session.execute(select(group_column, func.count())
                                   .where(*where, Contribution.reader_id.is_(None))
                                   .group_by(group_column))
    for rows in (named, anonymous):
        for key, count in rows:
            funnels[key].giving_readers += int(count or 0)
    return funnels


def add_giving_readers_by_day(funnels, period, *conditions):
    """add_giving_readers grouped by the UTC day the gift was paid (for one story's days:
    few rows, folded here)."""
    rows = db.session.execute(
        select(Contribution.reader_id, Contribution.paid_at, Contribution.story_id,
               Contribution.variant_id)
        .where(*_gift_conditions(period, conditions)))
    seen = set()
    for reader_id, paid_at, story_id, variant_id in rows:
        day = _utc_day(paid_at)
        if reader_id is not None:
            if (reader_id, day, story_id, variant_id) in seen:
                continue
            seen.add((reader_id, day, story_id, variant_id))
        funnels[day].giving_readers += 1
    return funnels


def settle(funnel):
    """Make a funnel hold together, in place: each stage at least the next one, conversions
    the giving readers up to the checkouts, views reported at most the viewable ones.

    Funnels rolled up per reader already hold (reader_funnel.py); this only lifts events
    that could not be joined to a reader (no reader id and no page view id), where a click
    still proves at least that many views.
    """
    funnel.clicks = max(funnel.clicks, funnel.checkouts)
    funnel.viewable = max(funnel.viewable, funnel.clicks)
    funnel.rendered = max(funnel.rendered, funnel.viewable)
    funnel.views_reported = min(funnel.views_reported, funnel.viewable)
    funnel.conversions = min(funnel.giving_readers, funnel.checkouts)
    return funnel


def share(part, whole):
    """part / whole, or None when there is no whole."""
    return part / whole if whole else None

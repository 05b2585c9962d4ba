"""Conversions a funnel can hold: readers who gave, never more than the funnel's checkouts.

A rate divides people by people. Payments are not people: one reader can pay three times
in a day (a one-off, then a monthly gift), and a gift can be paid after its checkout was
lost (a database outage while counting it, a reader who paid past midnight). So the rate's
numerator is the readers with a new gift, counted like the funnel's stages (once per reader,
day, story and variant) and at most the funnel's own checkouts; payments and money stay
separate figures. Gifts without a reader id (Do Not Track) each count as a reader.
"""
from datetime import UTC

from sqlalchemy import or_, select

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


def add_giving_readers(funnels, group_column, period, *conditions, fold=lambda key: key):
    """Add to each funnel's `giving_readers` the readers with a new gift paid in the period,
    once per reader, day, story and variant (as the stages count them), grouped by
    group_column (folded by `fold`, e.g. a timestamp to its day)."""
    start, end = period.bounds
    rows = db.session.execute(
        select(group_column, Contribution.reader_id, Contribution.paid_at,
               Contribution.story_id, Contribution.variant_id)
        .where(Contribution.paid_at >= start, Contribution.paid_at < end, new_gift(),
               *conditions))
    seen = set()
    for key, reader_id, paid_at, story_id, variant_id in rows:
        if reader_id is not None:
            reader_day = (reader_id, _utc_day(paid_at), story_id, variant_id)
            if reader_day in seen:
                continue
            seen.add(reader_day)
        funnels[fold(key)].giving_readers += 1
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

"""Money for the dashboard: totals and supporters for a period, and the lists behind them."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select

from supportapp.extensions import db
from supportapp.models import Contribution, RecurringSupport, Story
from supportapp.models.contribution import STRIPE_KEYS
from supportapp.models.recurring_support import SUPPORTING_STATUSES
from supportapp.services.periods import period_days


@dataclass
class Overview:
    raised: dict
    one_off: dict
    recurring: dict
    new_recurring: int
    cancellations: int
    active_recurring: int
    mrr: dict
    daily: list  # [(date, {currency: minor})]


def _utc_day(column):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite keeps the UTC text it was given


def _add(totals, currency, amount):
    totals[currency] = totals.get(currency, 0) + int(amount or 0)


def overview(period):
    """Money and supporters for the period, with today's active supporters and MRR."""
    start, end = period.bounds
    in_period = (Contribution.paid_at >= start, Contribution.paid_at < end)
    net = func.sum(Contribution.amount_minor - Contribution.amount_refunded_minor)
    result = Overview({}, {}, {}, 0, 0, 0, {}, [])
    for currency, frequency, amount in db.session.execute(
            select(Contribution.currency, Contribution.frequency, net).where(*in_period)
            .group_by(Contribution.currency, Contribution.frequency)):
        _add(result.raised, currency, amount)
        _add(result.one_off if frequency == "one_off" else result.recurring, currency, amount)
    result.new_recurring = db.session.scalar(select(func.count()).where(
        *in_period, Contribution.billing_reason == "subscription_create")) or 0
    result.cancellations = db.session.scalar(select(func.count()).where(
        RecurringSupport.cancelled_at >= start, RecurringSupport.cancelled_at < end)) or 0
    active = select(RecurringSupport.currency, RecurringSupport.interval,
                    func.count(), func.sum(RecurringSupport.amount_minor)).where(
        RecurringSupport.status.in_(SUPPORTING_STATUSES)).group_by(
        RecurringSupport.currency, RecurringSupport.interval)
    for currency, interval, count, amount in db.session.execute(active):
        result.active_recurring += count
        monthly = int(amount or 0) if interval != "year" else (int(amount or 0) + 6) // 12
        _add(result.mrr, currency, monthly)
    paid_day = _utc_day(Contribution.paid_at)
    by_day = defaultdict(dict)
    for value, currency, amount in db.session.execute(
            select(paid_day, Contribution.currency, net).where(*in_period)
            .group_by(paid_day, Contribution.currency)):
        key = value if isinstance(value, date) else date.fromisoformat(str(value))
        _add(by_day[key], currency, amount)
    result.daily = [(day, by_day.get(day, {})) for day in period_days(period)]
    return result


def contributions_list(period, status=None, frequency=None, currency=None, story=None,
                       search=None, page=1, per_page=50):
    """(contributions newest first, total) created in the period, filtered as asked."""
    start, end = period.bounds
    query = select(Contribution).where(Contribution.created_at >= start,
                                       Contribution.created_at < end)
    if status:
        query = query.where(Contribution.status == status)
    if frequency:
        query = query.where(Contribution.frequency == frequency)
    if currency:
        query = query.where(Contribution.currency == currency.upper())
    if story:
        query = query.join(Story, Story.id == Contribution.story_id).where(Story.slug == story)
    if search:
        term = search.strip()
        query = query.where(or_(Contribution.email.ilike(f"%{term}%"),
                                *[getattr(Contribution, k) == term for k in STRIPE_KEYS],
                                Contribution.stripe_subscription_id == term))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(Contribution.created_at.desc(),
                                             Contribution.id.desc())
                              .limit(per_page).offset(max(page - 1, 0) * per_page)).all()
    return rows, total


def recurring_supports_list(status=None, page=1, per_page=50):
    """(recurring supports newest first, total), optionally of one status."""
    query = select(RecurringSupport)
    if status:
        query = query.where(RecurringSupport.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(RecurringSupport.id.desc()).limit(per_page)
                              .offset(max(page - 1, 0) * per_page)).all()
    return rows, total

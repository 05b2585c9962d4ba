"""Funnels per story and per appeal variant, read from daily rollups and contributions."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date

from sqlalchemy import func, select

from supportapp.caches import app_caches
from supportapp.extensions import db
from supportapp.models import AppealVariant, Contribution, DailyFunnel, Reminder, Story
from supportapp.services.funnel_conversions import (
    add_giving_readers,
    add_giving_readers_by_day,
    new_gift,
    settle,
    share,
)
from supportapp.services.periods import period_days
from supportapp.services.reminders import GIFT_WINDOW
from supportapp.services.tracking import last_rollup
from supportapp.services.variant_stats import chance_to_beat, conversion_interval

ANNUAL_FACTOR = {"one_off": 1, "monthly": 12, "annual": 1}
FUNNEL_FIELDS = ("rendered", "viewable", "clicks", "checkouts", "offers_shown",
                 "offers_accepted", "views_reported")


@dataclass
class Funnel:
    rendered: int = 0
    viewable: int = 0
    clicks: int = 0
    checkouts: int = 0
    offers_shown: int = 0  # readers offered a monthly gift instead of a one-off one
    offers_accepted: int = 0  # ... who took it
    views_reported: int = 0  # viewable impressions whose beacon arrived (not implied)
    contributions: int = 0  # every payment, renewals included
    new_gifts: int = 0  # one-off payments and first payments of subscriptions
    giving_readers: int = 0  # reader-days with a new gift (funnel_conversions.py)
    conversions: int = 0  # giving readers, at most the checkouts: what rates divide
    recurring_won: int = 0
    revenue: dict = field(default_factory=dict)  # currency -> net minor units
    annualised: dict = field(default_factory=dict)  # currency -> minor units of new gifts
    reminder_signups: int = 0  # "Remind me later" asked for
    reminders_sent: int = 0
    reminder_gifts: int = 0  # new gifts from a reminder's link, paid within GIFT_WINDOW

    @property
    def conversion_rate(self):
        """Converting readers per viewable impression."""
        return share(self.conversions, self.viewable)

    @property
    def conversion_rate_shown(self):
        """Converting readers per appeal shown."""
        return share(self.conversions, self.rendered)

    @property
    def beacons_missing_share(self):
        """Share of appeals shown that never reported a view (scrolled past, blocked, or
        clicked within the viewability second): how far to trust `viewable`."""
        return share(self.rendered - self.views_reported, self.rendered)

    @property
    def rpm(self):
        return per_thousand(self.revenue, self.viewable)


def per_thousand(amounts, viewable):
    """Money per 1,000 viewable impressions, rounded half up to whole minor units."""
    if not viewable:
        return {}
    return {cur: (minor * 1000 * 2 + viewable) // (viewable * 2) for cur, minor in amounts.items()}


def _funnel_counts(group_column, period, *conditions):
    rows = db.session.execute(
        select(group_column, *[func.sum(getattr(DailyFunnel, f)) for f in FUNNEL_FIELDS])
        # variant 0: held-back readers and events of no appeal, never appeals shown
        .where(DailyFunnel.day.between(period.start, period.end), DailyFunnel.variant_id != 0,
               *conditions)
        .group_by(group_column))
    funnels = defaultdict(Funnel)
    for key, *counts in rows:
        for name, value in zip(FUNNEL_FIELDS, counts, strict=True):
            setattr(funnels[key], name, int(value or 0))
    return funnels


def _settled(funnels):
    for funnel in funnels.values():
        settle(funnel)
    return funnels


def _add_reminders(funnels, group_name, period, *conditions):
    """Reminder sign-ups and sendings in the period, and the new gifts paid in it that a
    reminder won (made from its link within GIFT_WINDOW of its sending), grouped by the
    reminder's story or variant (`group_name`)."""
    start, end = period.bounds
    group = getattr(Reminder, group_name)
    for column, name in ((Reminder.created_at, "reminder_signups"),
                         (Reminder.sent_at, "reminders_sent")):
        rows = db.session.execute(select(group, func.count())
                                  .where(column >= start, column < end, *conditions)
                                  .group_by(group))
        for key, count in rows:
            setattr(funnels[key], name, getattr(funnels[key], name) + count)
    # Few rows (gifts made from reminders): the window is checked here, the same on SQLite
    # and PostgreSQL. A gift can only carry the reference once the email is out.
    rows = db.session.execute(
        select(group, Contribution.paid_at, Reminder.sent_at)
        .join(Reminder, Contribution.reminder_id == Reminder.id)
        .where(Contribution.paid_at >= start, Contribution.paid_at < end, new_gift(),
               Reminder.sent_at.is_not(None), *conditions))
    for key, paid_at, sent_at in rows:
        if _as_utc(paid_at) <= _as_utc(sent_at) + GIFT_WINDOW:
            funnels[key].reminder_gifts += 1
    return funnels


def _add_payments(funnels, group_column, period, *conditions, fold=lambda key: key):
    start, end = period.bounds
    is_new = new_gift()
    rows = db.session.execute(
        select(group_column, Contribution.currency, Contribution.frequency,
               (Contribution.billing_reason == "subscription_create").label("first"),
               is_new.label("new"), func.count(),
               func.sum(Contribution.amount_minor - Contribution.amount_refunded_minor))
        .where(Contribution.paid_at >= start, Contribution.paid_at < end, *conditions)
        .group_by(group_column, Contribution.currency, Contribution.frequency, "first", "new"))
    for key, currency, frequency, first, new, count, net in rows:
        funnel = funnels[fold(key)]
        funnel.contributions += count
        funnel.revenue[currency] = funnel.revenue.get(currency, 0) + int(net or 0)
        if new:
            funnel.new_gifts += count
            funnel.recurring_won += count if first else 0
            value = int(net or 0) * ANNUAL_FACTOR.get(frequency, 1)
            funnel.annualised[currency] = funnel.annualised.get(currency, 0) + value
    return funnels


@dataclass
class StoryRow:
    story_id: int
    slug: str
    title: str
    section: str
    funnel: Funnel

    def __getattr__(self, name):
        # rendered, viewable, clicks, conversion_rate, rpm, revenue … read through to the funnel
        return getattr(self.__dict__["funnel"], name)


def _story_rows(period, *story_conditions):
    funnels = _funnel_counts(DailyFunnel.story_id, period)
    _add_payments(funnels, Contribution.story_id, period)
    _add_reminders(funnels, "story_id", period)
    _settled(add_giving_readers(funnels, Contribution.story_id, period))
    ids = [k for k in funnels if k]
    stories = db.session.execute(
        select(Story.id, Story.slug, Story.title, Story.section)
        .where(Story.id.in_(ids), *story_conditions)).all() if ids else []
    return [StoryRow(sid, slug, title, section, funnels[sid])
            for sid, slug, title, section in stories]


def stories_table(period):
    """One row per story with any appeal activity or payment in the period, best first.

    Kept per period and data stamp (report_stamp), so a page read again between roll-ups
    and payments does not add up the funnels again."""
    return app_caches().report_tables.get(("stories", period, report_stamp(period)),
                                         lambda: _sorted_story_rows(period))


def _sorted_story_rows(period):
    rows = _story_rows(period)
    return sorted(rows, key=lambda r: (-r.conversions, -r.viewable, r.slug))


def report_stamp(period):
    """What the reports over a period are computed from, in a few numbers: the roll-up's
    version, and the count and latest change of the period's payments and of reminders.
    A report kept under its stamp is the report now (cheap: a few indexed aggregates)."""
    start, end = period.bounds
    payments = db.session.execute(
        select(func.count(), func.max(Contribution.updated_at))
        .where(Contribution.paid_at >= start, Contribution.paid_at < end)).one()
    reminders = db.session.execute(select(func.max(Reminder.id),
                                          func.count(Reminder.sent_at))).one()
    return last_rollup().version, tuple(payments), tuple(reminders)


def story_report(story_id, period):
    """(StoryRow or None, daily points) for one story."""
    rows = _story_rows(period, Story.id == story_id)
    daily = _funnel_counts(DailyFunnel.day, period, DailyFunnel.story_id == story_id)
    # One story's payments in a period are few: group by timestamp, fold to UTC days here.
    _add_payments(daily, Contribution.paid_at, period, Contribution.story_id == story_id,
                  fold=_utc_day)
    _settled(add_giving_readers_by_day(daily, period, Contribution.story_id == story_id))
    points = [DailyPoint(day, daily.get(day) or Funnel()) for day in period_days(period)]
    return (rows[0] if rows else None), points


def _as_utc(value):
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_day(value):
    return _as_utc(value).date()


@dataclass
class DailyPoint:
    day: date
    funnel: Funnel

    def __getattr__(self, name):
        return getattr(self.__dict__["funnel"], name)


@dataclass
class VariantRow:
    variant_id: int
    name: str
    is_control: bool
    funnel: Funnel
    ci_low: float | None = None
    ci_high: float | None = None
    chance_beats_control: float | None = None

    def __getattr__(self, name):
        return getattr(self.__dict__["funnel"], name)

    @property
    def annualised_per_thousand(self):
        return per_thousand(self.funnel.annualised, self.funnel.viewable)


def variants_table(appeal_id, period):
    """Every variant of an appeal with its funnel, 95% interval and chance to beat control.

    Kept per appeal, period and data stamp (report_stamp): the statistics (scipy, tens of
    ms) and the sums are computed once per version of the data they come from."""
    return app_caches().report_tables.get(("variants", appeal_id, period, report_stamp(period)),
                                         lambda: _variant_rows(appeal_id, period))


def _variant_rows(appeal_id, period):
    funnels = _funnel_counts(DailyFunnel.variant_id, period, DailyFunnel.appeal_id == appeal_id)
    _add_payments(funnels, Contribution.variant_id, period, Contribution.appeal_id == appeal_id)
    _add_reminders(funnels, "variant_id", period, Reminder.appeal_id == appeal_id)
    _settled(add_giving_readers(funnels, Contribution.variant_id, period,
                                Contribution.appeal_id == appeal_id))
    variants = db.session.scalars(select(AppealVariant).where(
        AppealVariant.appeal_id == appeal_id).order_by(AppealVariant.id)).all()
    rows = [VariantRow(v.id, v.name, v.is_control, funnels.get(v.id) or Funnel())
            for v in variants]
    _add_statistics(appeal_id, period, rows)
    return rows


def _add_statistics(appeal_id, period, rows):
    # Also kept by the counts they come from: an appeal's variants' statistics are reused
    # when other data of the period (another appeal's payments) moved its stamp.
    counts = tuple((r.variant_id, r.is_control, r.conversions, r.viewable) for r in rows)
    stats = app_caches().report_tables.get(("statistics", appeal_id, period, counts),
                                          lambda: _statistics(counts))
    for row, (ci_low, ci_high, chance) in zip(rows, stats, strict=True):
        row.ci_low, row.ci_high, row.chance_beats_control = ci_low, ci_high, chance


def _statistics(counts):
    """(ci_low, ci_high, chance to beat control) per (variant, is_control, conversions,
    viewable), in order."""
    control = next((c for c in counts if c[1]), None)
    stats = []
    for variant_id, _is_control, conversions, viewable in counts:
        chance = None
        if control is not None and variant_id != control[0]:
            chance = chance_to_beat(conversions, viewable, control[2], control[3])
        stats.append((*conversion_interval(conversions, viewable), chance))
    return tuple(stats)

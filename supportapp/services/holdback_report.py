"""What each variant adds over the holdback: lift in new gifts and annualised value per
1,000 readers, with a 95% interval.

Readers are counted once per arm over the period, from the per-reader funnel: those shown a
variant (any stage) and those held back (variant 0). Only readers with an id count: readers
without one are never held back and their gifts cannot be followed, so both arms hold the
same kind of reader. A new gift (one-off, or a subscription's first payment) counts for the
arm it is credited to (services/gift_attribution: direct, influenced or held back), when the
gift names its reader.

Each measure is a mean per reader (gifts, or annualised value in minor units; readers who
gave nothing count as 0), and the lift is the difference of the two means with the normal
(Welch) interval: d ± z·sqrt(s²_v/n_v + s²_h/n_h), s² the sample variance per reader. The
interval is centred on the estimate, so it always contains it. Value is kept per currency.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from math import ceil, floor, sqrt

from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import Contribution, ReaderFunnel
from supportapp.services.funnel_conversions import new_gift
from supportapp.services.gift_attribution import ATTRIBUTION_KINDS
from supportapp.services.reader_funnel import PAGE_VIEW_PREFIX
from supportapp.services.reports import ANNUAL_FACTOR

HOLDBACK_ARM = 0
PER_READERS = 1000


@dataclass(frozen=True)
class Lift:
    """A difference of means per 1,000 readers (variant minus holdback) and its interval."""

    estimate: float
    low: float
    high: float


@dataclass
class ArmTotals:
    """One arm's readers and, per reader who gave, their gifts and annualised value."""

    readers: int = 0
    gifts: dict = field(default_factory=dict)  # reader id -> new gifts
    value: dict = field(default_factory=lambda: defaultdict(dict))  # currency -> {reader: v}

    @property
    def gift_count(self):
        return sum(self.gifts.values())


@dataclass(frozen=True)
class VariantLift:
    variant_id: int
    readers: int
    holdback_readers: int
    gifts: Lift | None  # None: too few readers in an arm to say
    value: dict  # currency -> Lift in whole minor units

    def as_dict(self):
        """For the JSON API: readers per arm, and each lift as estimate, low and high."""
        return {"readers": self.readers, "holdback_readers": self.holdback_readers,
                "gifts_per_thousand": _lift_dict(self.gifts),
                "annualised_per_thousand": {cur: _lift_dict(lift)
                                            for cur, lift in self.value.items()}}


def _lift_dict(lift):
    return None if lift is None else {"estimate": lift.estimate, "low": lift.low,
                                      "high": lift.high}


def mean_difference(values, n, control_values, control_n, confidence=0.95):
    """Lift of `values` over `control_values` per PER_READERS, or None with under two
    readers in either arm. Each list holds the non-zero values per reader; the other
    readers of the arm (n in all) count as zeros."""
    from scipy import stats

    if n < 2 or control_n < 2:
        return None
    mean, var = _mean_var(values, n)
    control_mean, control_var = _mean_var(control_values, control_n)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    diff = mean - control_mean
    half = z * sqrt(var / n + control_var / control_n)
    return Lift(diff * PER_READERS, (diff - half) * PER_READERS, (diff + half) * PER_READERS)


def _mean_var(values, n):
    total = sum(values)
    mean = total / n
    # Sum of squared deviations, zeros included: sum(v²) - n·mean².
    squares = sum(v * v for v in values) - n * mean * mean
    return mean, max(squares, 0.0) / (n - 1)


def _readers_per_arm(appeal_id, period):
    rows = db.session.execute(
        select(ReaderFunnel.variant_id, func.count(func.distinct(ReaderFunnel.reader_key)))
        .where(ReaderFunnel.appeal_id == appeal_id,
               ReaderFunnel.day.between(period.start, period.end),
               ReaderFunnel.reader_key.not_like(f"{PAGE_VIEW_PREFIX}%"))
        .group_by(ReaderFunnel.variant_id))
    return {variant_id: count for variant_id, count in rows}


def _gifts_per_arm(appeal_id, period, arms):
    start, end = period.bounds
    rows = db.session.execute(
        select(Contribution.credited_variant_id, Contribution.reader_id, Contribution.currency,
               Contribution.frequency, func.count(),
               func.sum(Contribution.amount_minor - Contribution.amount_refunded_minor))
        .where(Contribution.credited_appeal_id == appeal_id,
               Contribution.attribution_kind.in_(ATTRIBUTION_KINDS),
               Contribution.reader_id.is_not(None),
               Contribution.paid_at >= start, Contribution.paid_at < end,
               new_gift())
        .group_by(Contribution.credited_variant_id, Contribution.reader_id,
                  Contribution.currency, Contribution.frequency))
    for variant_id, reader, currency, frequency, count, net in rows:
        arm = arms[variant_id or HOLDBACK_ARM]
        arm.gifts[reader] = arm.gifts.get(reader, 0) + count
        values = arm.value[currency]
        values[reader] = values.get(reader, 0) + int(net or 0) * ANNUAL_FACTOR.get(frequency, 1)


def arm_totals(appeal_id, period):
    """{variant id (0: the holdback): ArmTotals} for an appeal over a period."""
    arms = defaultdict(ArmTotals)
    for variant_id, readers in _readers_per_arm(appeal_id, period).items():
        arms[variant_id].readers = readers
    _gifts_per_arm(appeal_id, period, arms)
    return arms


def _whole(lift):
    """Money in whole minor units; the interval rounded outward, so it still holds."""
    return Lift(round(lift.estimate), floor(lift.low), ceil(lift.high))


def variant_lifts(appeal_id, variant_ids, period):
    """{variant id: VariantLift} for each of the appeal's variants over its holdback."""
    arms = arm_totals(appeal_id, period)
    holdback = arms[HOLDBACK_ARM]
    lifts = {}
    for variant_id in variant_ids:
        arm = arms[variant_id]
        currencies = sorted(set(arm.value) | set(holdback.value))
        value = {cur: _whole(lift) for cur in currencies if (lift := mean_difference(
            list(arm.value[cur].values()), arm.readers,
            list(holdback.value[cur].values()), holdback.readers)) is not None}
        gifts = mean_difference(list(arm.gifts.values()), arm.readers,
                                list(holdback.gifts.values()), holdback.readers)
        lifts[variant_id] = VariantLift(variant_id, arm.readers, holdback.readers, gifts, value)
    return lifts

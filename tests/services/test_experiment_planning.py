"""Planning figures against values worked out by hand from the closed form."""
import math
from types import SimpleNamespace

import pytest

from supportapp.labels import LABELS
from supportapp.services.experiment_planning import (
    VERDICTS,
    impressions_per_arm,
    plan_for_period,
    plan_variants,
)
from supportapp.services.periods import Period
from supportapp.services.variant_stats import conversion_interval

# z for 5% two-sided: 1.959964; z for 80% power: 0.841621; sum z = 2.801585.
# Worked step by step on a calculator (7 digits), p1 = 1.2 p0:
#   p0     asin(sqrt p1)  asin(sqrt p0)  h = 2(difference)  z/h       n = 2(z/h)^2
#   0.05   0.2474671      0.2255134      0.0439073          63.8068   8142.6 -> 8143
#   0.10   0.3537416      0.3217506      0.0639821          43.7870   3834.6 -> 3835
#   0.02   0.1555458      0.1418971      0.0272975          102.6316  21066.5 -> 21067
#   0.50   0.8860771      0.7853982      0.2013579          13.9135   387.2 -> 388
HAND_WORKED = [(0.05, 0.06, 8143), (0.10, 0.12, 3835), (0.02, 0.024, 21067),
               (0.50, 0.60, 388)]


@pytest.mark.parametrize("base, lifted, expected", HAND_WORKED)
def test_sample_size_matches_the_closed_form_by_hand(base, lifted, expected):
    """n = 2((z_.975 + z_.80) / h)^2, h = 2 asin(sqrt p1) - 2 asin(sqrt p0), rounded up."""
    assert lifted == pytest.approx(base * 1.2)
    assert impressions_per_arm(base) == expected


@pytest.mark.parametrize("base, _lifted, expected", HAND_WORKED)
def test_sample_size_close_to_the_pooled_variance_formula(base, _lifted, expected):
    """The textbook formula on the rates themselves (Fleiss, no continuity correction)
    gives within 1% of the same number for rates this small."""
    p1 = base * 1.2
    pooled = (base + p1) / 2
    n = (1.959964 * math.sqrt(2 * pooled * (1 - pooled))
         + 0.841621 * math.sqrt(base * (1 - base) + p1 * (1 - p1))) ** 2 / (p1 - base) ** 2
    assert expected == pytest.approx(n, rel=0.01)


def test_no_plan_without_a_rate_or_beyond_certainty():
    assert impressions_per_arm(0.0) is None
    assert impressions_per_arm(0.9) is None  # 1.2 * 90% is past 100%


def _row(variant_id, viewable, gifts, control=False):
    low, high = conversion_interval(gifts, viewable)
    return SimpleNamespace(variant_id=variant_id, viewable=viewable, conversions=gifts,
                           is_control=control, ci_low=low, ci_high=high)


def test_impressions_still_needed_and_days_by_hand():
    """Control 10,000 viewable at 5% (needs 8,143: none to come); the variant 4,000 in 30
    days, so 4,143 to come at 133.3 a day: 31.07, so 32 days."""
    control, variant = _row(1, 10_000, 500, control=True), _row(2, 4_000, 200)
    plans = plan_variants([control, variant], 30)
    assert plans[1].verdict == "control"
    plan = plans[2]
    assert (plan.needed_per_arm, plan.still_needed, plan.days_needed) == (8143, 4143, 32)
    assert plan.verdict == "too_few"  # 5% against 5%: the intervals overlap


def test_both_arms_short_takes_the_slower_one():
    """Control 2,000 in 10 days (200 a day: 6,143 to come, 31 days); variant 3,000
    (300 a day: 5,143 to come, 18 days): 11,286 to come, 31 days."""
    plans = plan_variants([_row(1, 2_000, 100, control=True), _row(2, 3_000, 150)], 10)
    assert (plans[2].still_needed, plans[2].days_needed) == (6143 + 5143, 31)


def test_a_clear_difference_is_named_and_a_small_one_is_not():
    control = _row(1, 9_000, 450, control=True)  # 5.0%
    plans = plan_variants([control, _row(2, 9_000, 700), _row(3, 9_000, 250),
                           _row(4, 9_000, 470)], 30)
    assert plans[2].verdict == "ahead"
    assert plans[3].verdict == "behind"
    assert plans[4].verdict == "no_difference"  # enough impressions, no 20% lift shows


def test_words_when_the_data_cannot_decide():
    """No control, no gifts from the control, no traffic: the plan says so, no winner."""
    assert plan_variants([_row(1, 100, 1), _row(2, 100, 5)], 7)[2].verdict == "no_control"
    plans = plan_variants([_row(1, 100, 0, control=True), _row(2, 100, 1)], 7)
    assert plans[2].verdict == "unknown_rate"
    quiet = plan_variants([_row(1, 1_000, 50, control=True), _row(2, 0, 0)], 7)[2]
    assert (quiet.verdict, quiet.days_needed) == ("too_few", None)
    assert set(VERDICTS) == set(LABELS["plan_verdict"])


def test_traffic_is_per_day_of_the_period_so_far():
    """A 30-day period whose last 20 days are still to come counts 10 days of traffic."""
    from datetime import date

    rows = [_row(1, 2_000, 100, control=True), _row(2, 3_000, 150)]
    period = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert plan_for_period(rows, period, date(2026, 11, 10))[2].days_needed == 31

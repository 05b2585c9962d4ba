"""How long an appeal test still has to run, and whether its figures can name a winner yet.

For each variant against the control: the viewable impressions each of the two needs to
detect a LIFT relative lift over the control's current conversion rate (new gifts per
viewable impression) with power POWER in a two-sided test at level ALPHA, the impressions
still to come, and the days that takes at the traffic of the period. Sample size is the
normal approximation on arcsine-transformed proportions (Cohen's h, as statsmodels'
NormalIndPower with proportion_effectsize computes it), equal arms:

    h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p0)),   n = 2 ((z_{1-ALPHA/2} + z_{POWER}) / h)^2

rounded up. A variant is called ahead or behind only when its 95% interval and the
control's do not overlap; otherwise the verdict says why the data cannot decide.
"""
import math
from dataclasses import dataclass
from statistics import NormalDist

LIFT = 0.20
VERDICTS = ("control", "no_control", "unknown_rate", "too_few", "no_difference", "ahead",
            "behind")
ALPHA = 0.05
POWER = 0.80


def impressions_per_arm(base_rate, lift=LIFT, alpha=ALPHA, power=POWER):
    """Viewable impressions each arm needs to detect `lift` over `base_rate`; None when the
    base rate is 0 (unknown) or the lifted rate would reach 100%."""
    target = base_rate * (1 + lift)
    if not 0 < base_rate < 1 or target >= 1:
        return None
    h = 2 * math.asin(math.sqrt(target)) - 2 * math.asin(math.sqrt(base_rate))
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return math.ceil(2 * (z / h) ** 2)


@dataclass(frozen=True)
class Plan:
    """One variant against the control. `verdict` is a code, in words in labels.py."""

    verdict: str
    needed_per_arm: int | None = None  # viewable impressions, for each of the two
    still_needed: int | None = None  # viewable impressions still to come, both together
    days_needed: int | None = None  # at the period's traffic; None: no traffic to go on


def _rate(row):
    return min(row.conversions, row.viewable) / row.viewable if row.viewable else 0.0


def _days(remaining, viewable, days):
    """Days for `remaining` more impressions at viewable/days a day; None with no traffic."""
    if remaining <= 0:
        return 0
    return math.ceil(remaining * days / viewable) if viewable else None


def _verdict(row, control, still_needed):
    if None not in (row.ci_low, control.ci_high) and row.ci_low > control.ci_high:
        return "ahead"
    if None not in (row.ci_high, control.ci_low) and row.ci_high < control.ci_low:
        return "behind"
    if not control.viewable or not row.viewable or still_needed:
        return "too_few"
    return "no_difference"


def plan_against_control(row, control, days):
    """The Plan for variant `row` against `control` (variants_table rows) over `days` days."""
    if row is control:
        return Plan("control")
    needed = impressions_per_arm(_rate(control))
    if needed is None:
        decided = _verdict(row, control, 0)
        return Plan(decided if decided in ("ahead", "behind") else "unknown_rate")
    remaining = [max(0, needed - arm.viewable) for arm in (row, control)]
    arm_days = [_days(left, arm.viewable, days) for left, arm in zip(remaining, (row, control),
                                                                     strict=True)]
    days_needed = None if None in arm_days else max(arm_days)
    return Plan(_verdict(row, control, sum(remaining)), needed, sum(remaining), days_needed)


def plan_for_period(rows, period, today):
    """plan_variants over the period's days up to today (traffic is per day so far)."""
    return plan_variants(rows, (min(period.end, today) - period.start).days + 1)


def plan_variants(rows, days):
    """{variant id: Plan} for variants_table rows over a period of `days` days so far."""
    control = next((r for r in rows if r.is_control), None)
    if control is None:
        return {r.variant_id: Plan("no_control") for r in rows}
    return {r.variant_id: plan_against_control(r, control, max(days, 1)) for r in rows}

"""The bandit on a known world: simulated readers over simulated hours, re-weighted hourly.

Three variants with set conversion rates and mean gifts (annualised minor units):

    control  2% of viewable impressions give, mean gift 10.00  -> 0.20 per viewable
    urgent   3%,                              mean gift 10.00  -> 0.30
    local    2%,                              mean gift 20.00  -> 0.40 (the best)

The best variant by value is not the best by conversion. 250 viewable impressions an hour
(6,000 a day) for 7 days; gift values are exponential around their mean. Readers all have
an id, so each day they are split by the shares that held when it began (bandit_assignment)
and the newest shares, re-weighted every hour, only reach them the next day. The fixed split
gives each variant a third, so it earns (0.20 + 0.30 + 0.40) / 3 = 0.30 per viewable
impression on average: 12,600.00 over the 42,000 impressions.
"""
from datetime import date, timedelta

import numpy as np
import pytest

from supportapp.services.bandit_assignment import BanditShares, roll_forward, shares_in_effect
from supportapp.services.thompson_sampling import Evidence, floored_shares, thompson_shares

WORLD = {"control": (0.02, 1000), "urgent": (0.03, 1000), "local": (0.02, 2000)}
IDS = {"control": 1, "urgent": 2, "local": 3}
BEST = IDS["local"]
PER_HOUR = 250
DAYS = 7
FLOOR_PERCENT = 5
FIXED_EXPECTED_PER_VIEW = sum(rate * mean for rate, mean in WORLD.values()) / 3  # 30.0 minor


def _serve(rng, counts, totals):
    """Readers of one hour: gifts and their value per variant; the value earned."""
    earned = 0
    for (name, (rate, mean)), shown in zip(WORLD.items(), counts, strict=True):
        gifts = rng.binomial(shown, rate)
        value = int(np.round(rng.exponential(mean, gifts)).sum())
        totals[IDS[name]] = [a + b for a, b in zip(totals[IDS[name]], (shown, gifts, value),
                                                      strict=True)]
        earned += value
    return earned


def simulate(seed, bandit=True, draws=1000):
    """(value earned, best variant's share of each day's traffic) for one simulated week."""
    rng = np.random.default_rng(seed)
    totals = {vid: [0, 0, 0] for vid in IDS.values()}
    latest, day, day_shares = (), None, ()
    earned, best_share = 0, []
    for n in range(DAYS):
        today = date(2026, 1, 1) + timedelta(days=n)
        best_seen = 0
        for _hour in range(24):
            found = dict(shares_in_effect(BanditShares(latest, day, day_shares), today, True))
            weights = np.array([found.get(vid, 0) for vid in IDS.values()], dtype=float)
            if not bandit or weights.sum() == 0:
                weights = np.ones(len(IDS))  # the fixed split, and the bandit's first day
            counts = rng.multinomial(PER_HOUR, weights / weights.sum())
            best_seen += counts[list(IDS.values()).index(BEST)]
            earned += _serve(rng, counts, totals)
            if bandit:  # the hourly re-weighting, as bandit_reweighting.reweight_appeal does
                shares = thompson_shares([Evidence(vid, *t) for vid, t in totals.items()],
                                         FLOOR_PERCENT, rng, draws)
                day, day_shares = roll_forward(day, day_shares, latest, today)
                latest = tuple(shares.items())
        best_share.append(best_seen / (PER_HOUR * 24))
    return earned, best_share


def test_the_bandit_moves_most_readers_to_the_best_variant_and_earns_more():
    """Seed 1: from day 4 on (after 18,000 viewable impressions) the best variant gets at
    least 75% of each day's readers, and the week earns more than the fixed split."""
    earned, best_share = simulate(1)
    fixed_earned, fixed_share = simulate(1, bandit=False)
    assert best_share[0] == pytest.approx(1 / 3, abs=0.03)  # no shares yet: an even split
    assert all(share >= 0.75 for share in best_share[3:]), best_share
    assert max(best_share) <= 1 - 2 * FLOOR_PERCENT / 100 + 0.01  # the floors hold
    assert all(share == pytest.approx(1 / 3, abs=0.03) for share in fixed_share)
    assert earned > fixed_earned * 1.1


def test_monte_carlo_over_many_worlds_agrees():
    """30 seeds: the fixed split earns what was worked out by hand (0.30 per viewable,
    within 3 standard errors), and the bandit more; on the last day the best variant gets
    80% of readers or more on average."""
    runs = [simulate(seed) for seed in range(100, 130)]
    fixed = [simulate(seed, bandit=False)[0] for seed in range(100, 130)]
    views = PER_HOUR * 24 * DAYS
    per_view = np.array([earned for earned, _ in runs]) / views
    fixed_per_view = np.array(fixed) / views
    fixed_se = fixed_per_view.std(ddof=1) / np.sqrt(len(fixed))
    assert abs(fixed_per_view.mean() - FIXED_EXPECTED_PER_VIEW) < 3 * fixed_se
    bandit_se = per_view.std(ddof=1) / np.sqrt(len(runs))
    assert per_view.mean() - 3 * bandit_se > FIXED_EXPECTED_PER_VIEW
    assert np.mean([share[-1] for _, share in runs]) >= 0.80


def test_win_shares_follow_the_evidence():
    """Equal evidence splits about evenly (a third each within Monte Carlo error); far
    better evidence wins nearly every draw."""
    rng = np.random.default_rng(5)
    even = thompson_shares([Evidence(v, 1000, 20, 20_000) for v in (1, 2, 3)], 0, rng, 20_000)
    # One standard error of a share from 20,000 draws is sqrt(1/3 * 2/3 / 20000) = 0.33%.
    assert all(abs(bp - 3333) <= 4 * 33 for bp in even.values())
    clear = thompson_shares([Evidence(1, 5000, 50, 50_000), Evidence(2, 5000, 150, 150_000)],
                            0, rng)
    assert clear[2] >= 9_990


def test_floors_by_hand():
    """10% floor, three variants: 30% is fixed, 70% split by win share (0.5, 0.3, 0.2):
    45%, 31%, 24%; basis points by largest remainder."""
    assert floored_shares({1: 0.5, 2: 0.3, 3: 0.2}, 10) == {1: 4500, 2: 3100, 3: 2400}
    # 7% floor: 21% fixed, 79% split as 1/3 each = 26.333…%: 33.34%, 33.33%, 33.33%.
    assert floored_shares({1: 1 / 3, 2: 1 / 3, 3: 1 / 3}, 7) == {1: 3334, 2: 3333, 3: 3333}
    # A variant that never wins still gets the floor.
    assert floored_shares({1: 1.0, 2: 0.0}, 5) == {1: 9500, 2: 500}
    assert floored_shares({1: 0.6, 2: 0.4}, 50) == {1: 5000, 2: 5000}
    with pytest.raises(ValueError):
        floored_shares({1: 0.5, 2: 0.3, 3: 0.2}, 34)

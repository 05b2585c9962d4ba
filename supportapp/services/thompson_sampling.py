"""Thompson sampling on annualised value per viewable impression: the bandit's model.

For each variant, value per viewable impression = p * m, where
- p, the share of viewable impressions that bring a new gift, has a Beta(1 + gifts,
  1 + viewable - gifts) posterior (a uniform prior);
- m, the mean annualised value of a gift, is 1 / lambda with lambda ~ Gamma(shape
  PRIOR_GIFTS + gifts, rate PRIOR_GIFTS * prior_mean + value): gift values taken as
  exponential with an unknown mean, under the conjugate prior worth PRIOR_GIFTS gifts at
  the appeal's mean gift over all variants (so a variant with few gifts is pulled toward it).

Each draw samples p * m for every variant; a variant's win share is the share of draws in
which it is highest. Shares then get the floor: each of n variants keeps `floor` and the
rest (1 - n * floor) is split by win share. Money arrives as integer minor units (one
currency); the sampling itself is floating point and only its ranking is kept. Shares are
whole basis points (out of SHARE_TOTAL), so what is stored and compared is integers.
"""
from dataclasses import dataclass

SHARE_TOTAL = 10_000  # basis points
PRIOR_GIFTS = 2  # the weight of the prior on a variant's mean gift, in gifts
DRAWS = 4_000  # enough for a win share within about 0.8 points (one standard error)


@dataclass(frozen=True)
class Evidence:
    """What one variant has earned: viewable impressions, new gifts and their annualised
    value (minor units of one currency)."""

    variant_id: int
    viewable: int
    gifts: int
    value_minor: int


def win_shares(evidence, rng, draws=DRAWS):
    """{variant id: share of posterior draws in which it has the highest value per view}."""
    # Deferred: numpy is 12 MB in each web worker, which imports this module (through the
    # worker command the CLI registers) but never samples; the worker's hourly job does.
    import numpy as np

    if not evidence:
        return {}
    viewable = np.array([max(e.viewable, 0) for e in evidence], dtype=float)
    gifts = np.minimum(np.array([max(e.gifts, 0) for e in evidence], dtype=float), viewable)
    value = np.array([max(e.value_minor, 0) for e in evidence], dtype=float)
    prior_mean = value.sum() / gifts.sum() if gifts.sum() else 1.0
    rate = rng.beta(1 + gifts, 1 + viewable - gifts, size=(draws, len(evidence)))
    gift_rate = rng.gamma(PRIOR_GIFTS + gifts, 1.0 / (PRIOR_GIFTS * prior_mean + value),
                          size=(draws, len(evidence)))
    wins = np.bincount(np.argmax(rate / gift_rate, axis=1), minlength=len(evidence))
    return {e.variant_id: float(w) / draws for e, w in zip(evidence, wins, strict=True)}


def floored_shares(wins, floor_percent):
    """{variant id: basis points}, summing to SHARE_TOTAL, each at least the floor.

    Each variant gets floor + (1 - n * floor) * win share, rounded to whole basis points by
    largest remainder (ties to the earlier variant). Needs floor * n <= 100%.
    """
    if not wins:
        return {}
    floor = floor_percent * SHARE_TOTAL // 100
    spare = SHARE_TOTAL - floor * len(wins)
    if spare < 0:
        raise ValueError("the floor share times the number of variants exceeds 100%")
    total_wins = sum(wins.values())
    exact = {vid: spare * (w / total_wins if total_wins else 1 / len(wins))
             for vid, w in wins.items()}
    shares = {vid: floor + int(x) for vid, x in exact.items()}
    left = SHARE_TOTAL - sum(shares.values())
    by_remainder = sorted(exact, key=lambda vid: -(exact[vid] - int(exact[vid])))
    for vid in by_remainder[:left]:
        shares[vid] += 1
    return shares


def thompson_shares(evidence, floor_percent, rng, draws=DRAWS):
    """The bandit's traffic shares for these variants: win shares with the floor applied."""
    return floored_shares(win_shares(evidence, rng, draws), floor_percent)

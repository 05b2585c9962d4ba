"""Which variant of a bandit appeal a reader sees, from the shares cached with the live appeals.

This runs on story pages, so it only reads shares already computed (the worker's
re-weighting, services/bandit_reweighting.py) and hashes; it never queries or samples.

A reader keeps their variant within a UTC day: readers with an id are split by a hash of
appeal, reader and day over the *day's* shares, those that held when the day began, which
no re-weighting during the day changes. Readers with no id get a fresh draw from the newest
shares (they cannot keep anything anyway). Before the first re-weighting, or when the
variants differ from those the shares were computed for, readers get an even split.
"""
import hashlib
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class BanditShares:
    """A BanditAllocation as plain values: ((variant id, basis points), ...) tuples."""

    latest: tuple
    day: date | None
    day_shares: tuple

    @classmethod
    def from_row(cls, row):
        """From a BanditAllocation row (or None: no shares yet)."""
        if row is None:
            return None
        return cls(_pairs(row.shares), row.day, _pairs(row.day_shares))


def _pairs(shares):
    return tuple((int(vid), int(bp)) for vid, bp in (shares or {}).items())


def roll_forward(day, day_shares, latest, today):
    """(day, day_shares) once `today` has begun: the shares that held when it began.

    Called before the newest shares are replaced, so on a new day's first re-weighting the
    shares being replaced, computed before the day began, become the day's shares.
    """
    if day == today:
        return day, day_shares
    return today, latest


def shares_in_effect(shares, today, has_reader_id):
    """The ((variant id, basis points), ...) readers get today; () when there are none."""
    if shares is None:
        return ()
    if has_reader_id:
        # Until today's first re-weighting rolls them forward, the newest shares are the
        # ones computed before today began: the same that re-weighting will fix for today.
        _day, pinned = roll_forward(shares.day, shares.day_shares, shares.latest, today)
        return pinned
    return shares.latest


def day_point(appeal_id, reader_id, today, total):
    """A number in [0, total) fixed by appeal, reader and UTC day."""
    digest = hashlib.sha256(f"{appeal_id}:{reader_id}:{today.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total


def choose_bandit_variant(appeal, reader_id, today, rng):
    """The variant this reader sees today under the appeal's bandit shares."""
    live = [v.id for v in appeal.variants]
    found = dict(shares_in_effect(appeal.bandit_shares, today, bool(reader_id)))
    weights = [found.get(vid, 0) for vid in live]
    if set(found) != set(live) or sum(weights) <= 0:
        weights = [1] * len(live)  # no shares for these variants yet: an even split
    total = sum(weights)
    point = day_point(appeal.id, reader_id, today, total) if reader_id else rng.randrange(total)
    for variant, weight in zip(appeal.variants, weights, strict=True):
        if point < weight:
            return variant
        point -= weight
    raise AssertionError("shares must add up")  # pragma: no cover

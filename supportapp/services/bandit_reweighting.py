"""Re-weighting bandit appeals: the worker's job that turns each variant's results into shares.

At most once per REWEIGHT_INTERVAL per appeal, the variants' viewable impressions, new gifts
and annualised value since the appeal started (services/reports.variants_table) go through
Thompson sampling (services/thompson_sampling.py) and the floor; the shares are stored in
BanditAllocation, read by story pages through the live-appeal cache. Annualised value in
several currencies is counted in GOAL_RATE_REFERENCE at the configured rates
(SUPPORTAPP_GOAL_RATES), as the goal ticker counts; a currency without a rate adds gifts but
no value.
"""
from datetime import UTC, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from supportapp.config import GOAL_RATE_REFERENCE
from supportapp.extensions import db
from supportapp.models import Appeal, BanditAllocation
from supportapp.services.appeals import clear_appeal_cache
from supportapp.services.bandit_assignment import roll_forward
from supportapp.services.clock import current_time
from supportapp.services.exchange_rates import sum_in_currency
from supportapp.services.periods import MAX_PERIOD_DAYS, Period
from supportapp.services.reports import variants_table
from supportapp.services.thompson_sampling import Evidence, thompson_shares

REWEIGHT_INTERVAL = timedelta(hours=1)


def reweight_bandits(stop):
    """Worker job: re-weight every live bandit appeal whose shares are an hour old or more."""
    now = current_time()
    appeals = db.session.scalars(
        select(Appeal).where(Appeal.status == "live", Appeal.allocation == "bandit")
        .options(selectinload(Appeal.variants)).order_by(Appeal.id)).all()
    changed = False
    for appeal in appeals:
        if stop.is_set():
            break
        changed = reweight_appeal(appeal, now) or changed
    if changed:
        clear_appeal_cache()  # others see them on their next read (services/content_stamp.py)


def _as_utc(value):
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _due(row, now):
    return row is None or _as_utc(row.computed_at) <= now - REWEIGHT_INTERVAL


def reweight_appeal(appeal, now, rng=None):
    """Store new shares for one appeal unless re-weighted within the hour; True if stored."""
    if not _due(db.session.get(BanditAllocation, appeal.id), now):
        return False
    evidence = appeal_evidence(appeal, now)  # commits (the roll-up): no lock held before
    if rng is None:
        # Deferred, like numpy in thompson_sampling: web workers import this module too.
        import numpy as np

        rng = np.random.default_rng()
    shares = thompson_shares(evidence, appeal.floor_percent or 0, rng)
    # Locked and checked again (PostgreSQL): of two workers, one rolls the day forward.
    row = db.session.get(BanditAllocation, appeal.id, with_for_update=True,
                         populate_existing=True)
    if not _due(row, now):
        db.session.rollback()
        return False
    if row is None:
        row = BanditAllocation(appeal_id=appeal.id, shares={}, day_shares={})
        db.session.add(row)
    row.day, row.day_shares = roll_forward(row.day, row.day_shares, row.shares, now.date())
    row.shares = {str(vid): bp for vid, bp in shares.items()}
    row.computed_at = now
    row.impressions = sum(e.viewable for e in evidence)
    db.session.commit()
    return True


def appeal_evidence(appeal, now):
    """Evidence for each variant shown (weight above 0), since the appeal started."""
    end = now.date()
    began = _as_utc(appeal.starts_at or appeal.created_at or now).date()
    start = min(max(began, end - timedelta(days=MAX_PERIOD_DAYS - 1)), end)
    rows = {r.variant_id: r for r in variants_table(appeal.id, Period(start, end))}
    rates = current_app.config["GOAL_RATES"]
    evidence = []
    for variant in appeal.variants:
        if variant.weight <= 0:
            continue
        row = rows.get(variant.id)
        if row is None:
            evidence.append(Evidence(variant.id, 0, 0, 0))
            continue
        evidence.append(Evidence(variant.id, row.viewable, row.conversions,
                                 sum_in_currency(row.annualised, GOAL_RATE_REFERENCE, rates)))
    return evidence

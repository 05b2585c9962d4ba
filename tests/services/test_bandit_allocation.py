"""Bandit appeals in the app: the worker's hourly re-weighting and what readers get from it."""
import random
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, BanditAllocation, Contribution, DailyFunnel
from supportapp.services.appeals import (
    choose_variant,
    clear_appeal_cache,
    live_appeals,
    save_appeal,
)
from supportapp.services.bandit_reweighting import appeal_evidence, reweight_appeal
from supportapp.services.clock import current_time, move_clock
from supportapp.services.worker import JOBS, run_due_jobs

NOON = datetime(2026, 11, 20, 12, tzinfo=UTC)
READERS = [f"reader-{n}" for n in range(400)]


@pytest.fixture
def bandit(app, make_story):
    """A live bandit appeal (floor 10%) with three variants, on a clock set to NOON."""
    move_clock(NOON - current_time())
    appeal = Appeal(name="Drive", status="live", target_sections=[], excluded_sections=[],
                    allocation="bandit", floor_percent=10, starts_at=NOON - timedelta(days=3))
    for name in ("control", "urgent", "local"):
        appeal.variants.append(AppealVariant(
            name=name, heading="H", body="<p>B</p>", cta_label="Give", preset_amounts={},
            default_frequency="monthly", weight=1, is_control=name == "control"))
    save_appeal(appeal)
    return appeal, make_story(slug="story")


def _results(appeal, story, gifts):
    """2,000 viewable impressions (and 100 checkouts: a gift converts only after one) per
    variant yesterday, and `gifts` (variant index -> [(amount, currency)]) paid yesterday as
    one-off gifts."""
    yesterday = NOON - timedelta(days=1)
    for index, variant in enumerate(appeal.variants):
        db.session.add(DailyFunnel(day=yesterday.date(), story_id=story.id,
                                   variant_id=variant.id, appeal_id=appeal.id, rendered=3000,
                                   viewable=2000, clicks=100, checkouts=100))
        for amount, currency in gifts.get(index, ()):
            db.session.add(Contribution(
                amount_minor=amount, currency=currency, frequency="one_off", status="paid",
                story_id=story.id, appeal_id=appeal.id, variant_id=variant.id,
                paid_at=yesterday))
    db.session.commit()


def test_evidence_counts_value_in_the_reference_currency(bandit):
    """EUR gifts count at the configured rate (EUR:1.16): 10.00 EUR is 11.60 USD."""
    appeal, story = bandit
    _results(appeal, story, {0: [(1000, "USD")], 2: [(1000, "EUR"), (500, "USD")]})
    evidence = appeal_evidence(appeal, current_time())
    assert [(e.viewable, e.gifts, e.value_minor) for e in evidence] == [
        (2000, 1, 1000), (2000, 0, 0), (2000, 2, 1160 + 500)]


def test_the_worker_reweights_at_most_hourly(bandit):
    """The worker's job stores shares from the results (here the third variant is far
    ahead, so it gets all but the two floors of 10%), then not again within the hour."""
    appeal, story = bandit
    _results(appeal, story, {0: [(1000, "USD")] * 10, 1: [(1000, "USD")] * 10,
                             2: [(2000, "USD")] * 40})
    assert any(job.__name__ == "reweight_bandits" for job in JOBS)
    run_due_jobs(threading.Event(), JOBS)
    row = db.session.get(BanditAllocation, appeal.id)
    ids = [str(v.id) for v in appeal.variants]
    # The two behind win a draw in a thousand at most: 10% floors, and the rest to the best.
    assert sum(row.shares.values()) == 10_000 and row.shares[ids[2]] >= 7_990
    assert 1000 <= row.shares[ids[0]] <= 1010 and 1000 <= row.shares[ids[1]] <= 1010
    assert row.impressions == 6000
    assert NOON <= row.computed_at < NOON + timedelta(minutes=1)  # the clock runs on
    assert (row.day, row.day_shares) == (NOON.date(), {})  # nothing held when the day began
    move_clock(timedelta(minutes=59))
    assert reweight_appeal(appeal, current_time()) is False
    move_clock(timedelta(minutes=2))
    assert reweight_appeal(appeal, current_time()) is True
    db.session.refresh(row)
    assert row.computed_at >= NOON + timedelta(minutes=61)


def _store(appeal, day, day_shares, latest):
    ids = [v.id for v in appeal.variants]
    db.session.merge(BanditAllocation(
        appeal_id=appeal.id, day=day, computed_at=NOON - timedelta(minutes=5), impressions=0,
        day_shares={str(i): bp for i, bp in zip(ids, day_shares, strict=True)},
        shares={str(i): bp for i, bp in zip(ids, latest, strict=True)}))
    db.session.commit()
    clear_appeal_cache()


def _split(readers, rng=None):
    (view,) = live_appeals()
    chosen = [choose_variant(view, reader, rng or random) for reader in readers]
    return chosen, {v.name: sum(c is v or c.id == v.id for c in chosen) / len(chosen)
                    for v in view.variants}


def test_readers_keep_their_variant_all_day(bandit):
    """Readers with an id follow the day's shares (90% control) whatever the newest shares
    (90% local) say, also after a re-weighting; readers with no id follow the newest."""
    appeal, _story = bandit
    _store(appeal, NOON.date(), (9000, 500, 500), (500, 500, 9000))
    chosen, split = _split(READERS)
    assert split["control"] == pytest.approx(0.9, abs=0.05)
    _anonymous, anonymous_split = _split([None] * 400, random.Random(3))
    assert anonymous_split["local"] == pytest.approx(0.9, abs=0.05)
    reweight_appeal(appeal, current_time() + timedelta(hours=2))  # new newest shares
    clear_appeal_cache()
    assert [c.id for c in _split(READERS)[0]] == [c.id for c in chosen]


def test_a_new_day_takes_the_shares_that_held_when_it_began(bandit):
    """Next day, readers with an id get the newest shares of the day before (90% local), the
    same before and after that day's first re-weighting; the day's hash splits them anew."""
    appeal, _story = bandit
    _store(appeal, NOON.date(), (9000, 500, 500), (500, 500, 9000))
    before, _ = _split(READERS)
    move_clock(timedelta(days=1))
    clear_appeal_cache()
    chosen, split = _split(READERS)
    assert split["local"] == pytest.approx(0.9, abs=0.05)
    assert reweight_appeal(appeal, current_time()) is True
    row = db.session.get(BanditAllocation, appeal.id)
    assert row.day == date(2026, 11, 21) and row.day_shares[str(appeal.variants[2].id)] == 9000
    clear_appeal_cache()
    assert [c.id for c in _split(READERS)[0]] == [c.id for c in chosen]
    assert [c.id for c in chosen] != [c.id for c in before]


def test_an_even_split_until_the_first_reweighting(bandit):
    """No shares yet, or shares for other variants: each variant gets about a third."""
    _chosen, split = _split(READERS * 3)
    assert all(share == pytest.approx(1 / 3, abs=0.06) for share in split.values())


def test_fixed_appeals_still_follow_their_weights(bandit):
    """Switching back to fixed weights ignores any stored shares."""
    appeal, _story = bandit
    _store(appeal, NOON.date(), (9000, 500, 500), (500, 500, 9000))
    appeal.allocation = "fixed"
    appeal.variants[1].weight = 0
    save_appeal(appeal)
    _chosen, split = _split(READERS)
    assert "urgent" not in split and split["control"] == pytest.approx(0.5, abs=0.08)

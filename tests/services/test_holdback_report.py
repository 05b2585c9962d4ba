"""Lift over the holdback, and direct and influenced figures, checked by hand and by Monte
Carlo."""
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, Contribution, ReaderFunnel
from supportapp.services.appeals import save_appeal
from supportapp.services.credit_report import credit_figures
from supportapp.services.holdback_report import Lift, arm_totals, mean_difference, variant_lifts
from supportapp.services.periods import Period

DAY = date(2026, 11, 20)
NOON = datetime(2026, 11, 20, 12, tzinfo=UTC)
PERIOD = Period(DAY - timedelta(days=6), DAY)


def test_gift_lift_worked_by_hand():
    """Variant: 30 of 1,000 readers gave once; holdback: 10 of 500.
    Means 0.03 and 0.02; variances (30 - 1000·0.03²)/999 = 0.0291291 and
    (10 - 500·0.02²)/499 = 0.0196393; se = sqrt(0.0291291/1000 + 0.0196393/500) = 0.00827089;
    half-width 1.959964·se = 0.0162107. Per 1,000 readers: 10.0 (−6.2107 to 26.2107)."""
    lift = mean_difference([1] * 30, 1000, [1] * 10, 500)
    assert lift.estimate == pytest.approx(10.0)
    assert lift.low == pytest.approx(-6.2107, abs=1e-3)
    assert lift.high == pytest.approx(26.2107, abs=1e-3)


def test_value_lift_worked_by_hand():
    """Variant: four readers, one gave 12 (annualised); holdback: four, one gave 4.
    Means 3 and 1; variances (144 - 4·9)/3 = 36 and (16 - 4·1)/3 = 4;
    se = sqrt(36/4 + 4/4) = sqrt(10) = 3.162278; half-width 1.959964 · 3.162278 = 6.197951.
    Per 1,000 readers: 2,000 (−4,197.95 to 8,197.95)."""
    lift = mean_difference([12], 4, [4], 4)
    assert lift == Lift(pytest.approx(2000.0), pytest.approx(-4197.951, abs=0.01),
                        pytest.approx(8197.951, abs=0.01))


def test_too_few_readers_say_nothing():
    assert mean_difference([1], 1, [1], 50) is None
    assert mean_difference([], 50, [], 1) is None


def test_interval_covers_the_true_lift_95_percent_of_the_time():
    """Monte Carlo: 2,000 experiments, 3,000 readers per variant at 4% and 1,000 held back
    at 3%. The interval should hold the true lift (10 per 1,000) in about 95% of them;
    the binomial spread of the coverage over 2,000 runs is 0.5 points."""
    rng = np.random.default_rng(20261130)
    runs, covered = 2000, 0
    for _ in range(runs):
        variant = int(rng.binomial(3000, 0.04))
        held = int(rng.binomial(1000, 0.03))
        lift = mean_difference([1] * variant, 3000, [1] * held, 1000)
        covered += lift.low <= 10.0 <= lift.high
        assert lift.low <= lift.estimate <= lift.high
    assert 0.93 <= covered / runs <= 0.97


@pytest.fixture
def experiment(app, make_story):
    """An appeal with two variants and its holdback: readers per arm and their gifts."""
    appeal = Appeal(name="Drive", status="live", target_sections=[], excluded_sections=[],
                    holdback_percent=10)
    for name in ("control", "challenger"):
        appeal.variants.append(AppealVariant(
            name=name, heading="H", body="<p>B</p>", cta_label="Give", preset_amounts={},
            default_frequency="monthly", weight=1, is_control=name == "control"))
    save_appeal(appeal)
    control, challenger = appeal.variants
    story = make_story(slug="harbour")
    arms = {control.id: 40, challenger.id: 40, 0: 20}
    for variant_id, readers in arms.items():
        for i in range(readers):
            for day in (DAY, DAY - timedelta(days=1)):  # each reader on two days: one reader
                db.session.add(ReaderFunnel(
                    day=day, reader_key=f"r{variant_id}-{i}", story_id=story.id,
                    variant_id=variant_id, appeal_id=appeal.id, stage=1, view_reported=False,
                    last_seen_at=datetime.combine(day, datetime.min.time(), UTC)))
        # Page views without a reader id: never counted in the lift.
        db.session.add(ReaderFunnel(day=DAY, reader_key=f"pv:{variant_id}", story_id=story.id,
                                    variant_id=variant_id, appeal_id=appeal.id, stage=1,
                                    view_reported=False, last_seen_at=NOON))

    def gift(kind, variant_id, reader, amount, frequency="one_off", reason=None, **extra):
        db.session.add(Contribution(
            amount_minor=amount, currency="USD", frequency=frequency, status="paid",
            billing_reason=reason, reader_id=reader, paid_at=NOON, attribution_kind=kind,
            credited_story_id=story.id, credited_appeal_id=appeal.id,
            credited_variant_id=variant_id or None,
            # A direct gift's form named its story (a story's row lists its payments).
            story_id=story.id if kind == "direct" else None, **extra))

    gift("direct", challenger.id, f"r{challenger.id}-0", 1000)
    gift("influenced", challenger.id, f"r{challenger.id}-1", 500, "monthly",
         "subscription_create")
    gift("influenced", challenger.id, f"r{challenger.id}-1", 500, "monthly",
         "subscription_cycle")  # a renewal: not a new gift
    gift("direct", control.id, f"r{control.id}-0", 2000)
    gift("held_back", 0, "r0-0", 1000)
    gift("direct", challenger.id, None, 9000)  # no reader id: not in the lift
    db.session.commit()
    return appeal, control, challenger, story


def test_arm_totals_count_readers_and_new_gifts(experiment):
    appeal, control, challenger, _ = experiment
    arms = arm_totals(appeal.id, PERIOD)
    assert {k: arms[k].readers for k in (control.id, challenger.id, 0)} == {
        control.id: 40, challenger.id: 40, 0: 20}
    assert arms[challenger.id].gift_count == 2 and arms[0].gift_count == 1
    assert arms[challenger.id].value["USD"] == {f"r{challenger.id}-0": 1000,
                                                f"r{challenger.id}-1": 6000}


def test_variant_lifts_match_the_hand_formula(experiment):
    appeal, control, challenger, _ = experiment
    lifts = variant_lifts(appeal.id, [control.id, challenger.id], PERIOD)
    challenger_lift = lifts[challenger.id]
    assert (challenger_lift.readers, challenger_lift.holdback_readers) == (40, 20)
    assert challenger_lift.gifts == mean_difference([1, 1], 40, [1], 20)
    # 2/40 - 1/20 = 0: the challenger adds no gifts over the holdback here.
    assert challenger_lift.gifts.estimate == pytest.approx(0.0)
    value = challenger_lift.value["USD"]
    exact = mean_difference([1000, 6000], 40, [1000], 20)
    # (7000/40 - 1000/20) per 1,000 readers = 125,000 minor units, rounded outward.
    assert value.estimate == 125_000 and value.low <= exact.low and value.high >= exact.high
    assert lifts[control.id].gifts.estimate == pytest.approx(1 / 40 * 1000 - 1 / 20 * 1000)
    assert challenger_lift.as_dict()["annualised_per_thousand"]["USD"]["estimate"] == 125_000


def test_credit_figures_side_by_side(experiment):
    """Direct and influenced are kept apart, per variant and per story; held-back gifts and
    renewals are in neither."""
    appeal, control, challenger, story = experiment
    by_variant = credit_figures("variant", PERIOD, appeal_id=appeal.id)
    assert (by_variant[challenger.id].direct_gifts,
            by_variant[challenger.id].influenced_gifts) == (2, 1)
    assert by_variant[challenger.id].direct_annualised == {"USD": 10_000}
    assert by_variant[challenger.id].influenced_annualised == {"USD": 6000}
    assert set(by_variant) == {control.id, challenger.id}
    by_story = credit_figures("story", PERIOD, story_id=story.id)
    assert (by_story[story.id].direct_gifts, by_story[story.id].influenced_gifts) == (3, 1)


def test_reports_show_lift_and_both_credits(experiment, client, make_staff, staff_client):
    """The API and the dashboard pages give direct and influenced side by side and the lift."""
    from supportapp.services.staff import create_token

    appeal, control, challenger, story = experiment
    headers = {"Authorization": f"Bearer {create_token(make_staff('viewer'), 'tests')}"}
    period = "start=2026-11-14&end=2026-11-20"
    body = client.get(f"/api/reports/variants?appeal={appeal.id}&{period}", headers=headers).json
    row = next(v for v in body["variants"] if v["variant_id"] == challenger.id)
    assert (row["direct_gifts"], row["influenced_gifts"]) == (2, 1)
    assert row["influenced_annualised"] == {"USD": 6000}
    lift = row["lift_over_holdback"]
    assert (lift["readers"], lift["holdback_readers"]) == (40, 20)
    assert lift["annualised_per_thousand"]["USD"]["estimate"] == 125_000
    stories = client.get(f"/api/reports/stories?{period}", headers=headers).json["stories"]
    (story_row,) = [s for s in stories if s["story_id"] == story.id]
    assert (story_row["direct_gifts"], story_row["influenced_gifts"]) == (3, 1)
    viewer = staff_client("viewer")
    page = viewer.get(f"/dashboard/appeals/{appeal.id}?{period}").get_data(as_text=True)
    assert "What each variant adds" in page and "$1,250" in page  # 125,000 minor units
    story_page = viewer.get(f"/dashboard/stories/{story.id}?{period}").get_data(as_text=True)
    assert "Direct gifts" in story_page and "Influenced gifts" in story_page

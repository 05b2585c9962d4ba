"""The funnel holds together, whatever order, duplicates or gaps its events arrive in.

Hypothesis generates readers' journeys (several readers, page views without a reader id,
stories, variants, held-back readers and days), drops, repeats and shuffles their events,
rolls them up in several batches of several sizes (some counted at once, as journal
batches are), and then checks every report (the stories table, a story's report and its
days, the variants table, the JSON API) against a plain model computed here from the
journeys, and against the funnel's invariants.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from supportapp.extensions import db
from supportapp.models import (
    Contribution,
    DailyFunnel,
    ReaderFunnel,
    TrackingDedup,
    TrackingEvent,
    TrackingInbox,
)
from supportapp.services.periods import parse_period
from supportapp.services.reports import stories_table, story_report, variants_table
from supportapp.services.staff import create_token
from supportapp.services.tracking import TrackedEvent, count_events, record_events, roll_up

FIRST_DAY = date(2026, 11, 18)
DAYS = 3
STAGE_OF = {"rendered": 1, "view": 2, "click": 3, "checkout": 4}
COUNTS = ("rendered", "viewable", "clicks", "checkouts", "views_reported")
HOLDBACK = 2  # a journey's variant index meaning "held back" (variant id 0)


@dataclass(frozen=True)
class Journey:
    reader: int  # readers 0-3 have a reader id; 4-6 are page views without one
    story: int
    variant: int  # 0 control, 1 challenger, HOLDBACK
    day: int
    delivered: frozenset  # the kinds whose events arrived (the rest were lost)
    copies: int  # how often each arrived event arrived
    gifts: int  # new gifts the reader made (only counted after a click arrived)


journeys = st.lists(st.builds(
    Journey,
    reader=st.integers(0, 6), story=st.integers(0, 1), variant=st.integers(0, HOLDBACK),
    day=st.integers(0, DAYS - 1),
    delivered=st.frozensets(st.sampled_from(tuple(STAGE_OF)), min_size=1),
    copies=st.integers(1, 3), gifts=st.integers(0, 2)), min_size=1, max_size=14)


def _reader(n):
    """(reader_id, page_view) of reader n."""
    return (f"reader-{n:016d}", None) if n < 4 else (None, f"pageview-{n:08d}")


def _noon(day):
    return datetime.combine(FIRST_DAY + timedelta(days=day), time(12), UTC)


def _events(journey, world):
    reader_id, page_view = _reader(journey.reader)
    story = world["stories"][journey.story]
    if journey.variant == HOLDBACK:
        kinds, variant_id = ["holdback"], 0
    else:
        kinds, variant_id = sorted(journey.delivered), world["variants"][journey.variant]
    return [(journey.day, TrackedEvent(kind, story, world["appeal"], variant_id, reader_id,
                                       page_view=page_view))
            for kind in kinds for _ in range(journey.copies)]


def _gives(journey):
    return journey.variant != HOLDBACK and journey.gifts and (
        journey.delivered & {"click", "checkout"})


def _model(plan, world):
    """Per (day, story, variant id): the counts, and the reader-days who gave."""
    stages = {}
    for j in plan:
        if j.variant == HOLDBACK:
            key, stage, view = (j.day, j.story, 0, j.reader), 1, False
        else:
            key = (j.day, j.story, world["variants"][j.variant], j.reader)
            stage, view = max(STAGE_OF[k] for k in j.delivered), "view" in j.delivered
        old_stage, old_view = stages.get(key, (0, False))
        stages[key] = (max(old_stage, stage), old_view or view)
    counts = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for (day, story, variant, _reader_n), (stage, view) in stages.items():
        row = counts[(day, story, variant)]
        for column, needed in zip(COUNTS[:4], range(1, 5), strict=True):
            row[column] += stage >= needed
        row["views_reported"] += view
    givers = defaultdict(int)
    seen = set()
    for j in plan:
        if not _gives(j):
            continue
        key = (j.day, j.story, world["variants"][j.variant])
        if j.reader >= 4:  # no reader id on the gift: each gift is a reader
            givers[key] += j.gifts
        elif (key, j.reader) not in seen:
            seen.add((key, j.reader))
            givers[key] += 1
    return counts, givers


def _expected(counts, givers, keep):
    """The model's figures summed over the (day, story, variant) keys `keep` accepts."""
    total = dict.fromkeys(COUNTS, 0)
    total["giving"] = 0
    for key, row in counts.items():
        if keep(key) and key[2] != 0:
            for column in COUNTS:
                total[column] += row[column]
    total["giving"] = sum(n for key, n in givers.items() if keep(key))
    total["conversions"] = min(total["giving"], total["checkouts"])
    return total


def _assert_holds(row, expected, where):
    figures = {c: getattr(row, c) for c in COUNTS}
    assert figures == {c: expected[c] for c in COUNTS}, where
    assert row.conversions == expected["conversions"], where
    _assert_invariants(figures | {"conversions": row.conversions,
                                  "conversion_rate": row.conversion_rate,
                                  "conversion_rate_shown": row.conversion_rate_shown,
                                  "beacons_missing_share": row.beacons_missing_share}, where)


def _assert_invariants(f, where):
    assert f["rendered"] >= f["viewable"] >= f["clicks"] >= f["checkouts"] >= \
        f["conversions"] >= 0, where
    assert f["viewable"] >= f["views_reported"] >= 0, where
    for rate in ("conversion_rate", "conversion_rate_shown", "beacons_missing_share"):
        assert f[rate] is None or 0 <= f[rate] <= 1, (where, rate)


def _clear_activity():
    for model in (TrackingInbox, TrackingEvent, TrackingDedup, DailyFunnel, ReaderFunnel,
                  Contribution):
        db.session.execute(delete(model))
    db.session.commit()


def _record(plan, world, order, rollup_after, batch, direct):
    events = [e for j in plan for e in _events(j, world)]
    shuffled = [events[i] for i in order]
    for n, (day, event) in enumerate(shuffled, start=1):
        if n in direct:  # as a journal batch: counted at once, and loaded twice
            for _ in range(2):
                count_events([event], batch_key=f"journal|test|{n}", now=_noon(day))
        else:
            record_events([event], now=_noon(day))
        if n in rollup_after:
            roll_up(batch=batch)
    for j in plan:
        if _gives(j):
            reader_id, _page_view = _reader(j.reader)
            for _ in range(j.gifts):
                db.session.add(Contribution(
                    amount_minor=500, currency="USD", frequency="one_off", status="paid",
                    story_id=world["stories"][j.story], appeal_id=world["appeal"],
                    variant_id=world["variants"][j.variant], reader_id=reader_id,
                    paid_at=_noon(j.day)))
    db.session.commit()


@pytest.fixture
def world(app, drive_appeal, make_story, make_staff):
    appeal = drive_appeal
    stories = [make_story(slug="first").id, make_story(slug="second").id]
    token = create_token(make_staff("viewer"), "tests")
    return {"appeal": appeal.id, "variants": [v.id for v in appeal.variants],
            "stories": stories, "token": token}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(plan=journeys, data=st.data(), batch=st.sampled_from([1, 3, 5000]))
def test_every_report_matches_the_model_and_holds(client, world, plan, data, batch):
    """Any stream of lost, repeated and shuffled events gives the in-order totals, whether
    each went through the inbox or was counted as a journal batch, and every
    report keeps shown >= viewable >= clicks >= checkouts >= conversions, rates <= 100% and
    each interval around its estimate."""
    _clear_activity()
    n_events = sum(len(_events(j, world)) for j in plan)
    permutation = data.draw(st.permutations(range(n_events)), label="order")
    rollup_after = data.draw(st.sets(st.integers(1, n_events)), label="roll-up points")
    direct = data.draw(st.sets(st.integers(1, n_events)), label="journal batches")
    _record(plan, world, permutation, rollup_after, batch, direct)
    roll_up(batch=batch)
    counts, givers = _model(plan, world)

    stored = {(r.day, r.story_id, r.variant_id): {c: getattr(r, c) for c in COUNTS}
              for r in db.session.scalars(select(DailyFunnel))}
    stored = {k: v for k, v in stored.items() if any(v.values())}
    by_day = {(FIRST_DAY + timedelta(days=d), world["stories"][s], v): row
              for (d, s, v), row in counts.items()}
    assert stored == {k: v for k, v in by_day.items() if any(v.values())}
    assert db.session.scalar(select(func.count()).select_from(ReaderFunnel)) == len(
        {(j.day, j.reader, j.story, j.variant) for j in plan})

    last_day = FIRST_DAY + timedelta(days=DAYS - 1)
    period = parse_period("custom", FIRST_DAY.isoformat(), last_day.isoformat(), last_day)
    _check_stories(world, counts, givers, period)
    _check_variants(world, counts, givers, period)
    _check_api(client, world, counts, givers, period)


def _story_key(world, s):
    return lambda key: key[1] == s


def _check_stories(world, counts, givers, period):
    rows = {r.story_id: r for r in stories_table(period)}
    for s, story_id in enumerate(world["stories"]):
        expected = _expected(counts, givers, _story_key(world, s))
        if story_id not in rows:
            assert expected["rendered"] == 0 and expected["giving"] == 0
            continue
        _assert_holds(rows[story_id], expected, f"stories_table story {s}")
        row, points = story_report(story_id, period)
        _assert_holds(row, expected, f"story_report story {s}")
        for d, point in enumerate(points):
            daily = _expected(counts, givers, lambda key, d=d, s=s: key[:2] == (d, s))
            _assert_holds(point, daily, f"story {s} day {d}")


def _check_variants(world, counts, givers, period):
    rows = {r.variant_id: r for r in variants_table(world["appeal"], period)}
    for v, variant_id in enumerate(world["variants"]):
        expected = _expected(counts, givers, lambda key, vid=variant_id: key[2] == vid)
        row = rows[variant_id]
        _assert_holds(row, expected, f"variant {v}")
        if row.viewable:
            assert row.ci_low <= row.conversion_rate <= row.ci_high
        else:
            assert row.ci_low is None and row.ci_high is None


def _check_api(client, world, counts, givers, period):
    auth = {"Authorization": f"Bearer {world['token']}"}
    query = f"period=custom&start={period.start.isoformat()}&end={period.end.isoformat()}"
    stories = client.get(f"/api/reports/stories?{query}", headers=auth).json["stories"]
    variants = client.get(f"/api/reports/variants?appeal={world['appeal']}&{query}",
                          headers=auth).json["variants"]
    for item in stories:
        s = world["stories"].index(item["story_id"])
        expected = _expected(counts, givers, _story_key(world, s))
        assert {c: item[c] for c in COUNTS} == {c: expected[c] for c in COUNTS}
        assert item["conversions"] == expected["conversions"]
        _assert_invariants(item, f"API story {s}")
    for item in variants:
        expected = _expected(counts, givers, lambda key, vid=item["variant_id"]: key[2] == vid)
        assert {c: item[c] for c in COUNTS} == {c: expected[c] for c in COUNTS}
        assert item["conversions"] == expected["conversions"]
        _assert_invariants(item, f"API variant {item['name']}")
        if item["viewable"]:
            assert item["ci_low"] <= item["conversion_rate"] <= item["ci_high"]

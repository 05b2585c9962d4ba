"""Reports only read: the roll-up runs elsewhere (worker, the app's thread, the CLI), and
reports say as of when; appeal statistics are computed once per appeal, period and counts."""
import threading
import time
from datetime import UTC, datetime, timedelta

import lxml.html
import pytest
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import Contribution, RollupState, TrackingInbox
from supportapp.services import variant_stats
from supportapp.services.background_rollup import background_rollup
from supportapp.services.clock import current_time, move_clock
from supportapp.services.periods import parse_period
from supportapp.services.reports import stories_table, variants_table
from supportapp.services.staff import create_token
from supportapp.services.tracking import (
    TrackedEvent,
    last_rollup,
    record_events,
    roll_up,
    roll_up_if_due,
)
from supportapp.services.worker import run_worker


def _views(appeal, story, count, variant=0):
    record_events([TrackedEvent("view", story.id, appeal.id, appeal.variants[variant].id)]
                  * count)


def _inbox():
    db.session.rollback()  # a fresh snapshot: other connections may have rolled up
    return db.session.scalar(select(func.count()).select_from(TrackingInbox))


def _period():
    return parse_period("7d", None, None, datetime.now(UTC).date())


def test_reports_read_and_never_roll_up(tested_appeal):
    """Events not yet rolled up stay in the inbox whatever reports run; a roll-up shows them."""
    appeal, story = tested_appeal
    _views(appeal, story, 3)
    assert stories_table(_period()) == []
    assert variants_table(appeal.id, _period())[0].viewable == 0
    assert _inbox() == 3 and last_rollup().finished_at is None
    roll_up()
    assert [r.viewable for r in stories_table(_period())] == [3]
    assert _inbox() == 0


def test_roll_up_records_when_it_finished_and_a_version(app, tested_appeal):
    """Each roll-up stamps the app's time; only one that moved events bumps the version."""
    appeal, story = tested_appeal
    move_clock(timedelta(hours=3))
    roll_up()
    first = last_rollup()
    assert first.version == 0
    assert abs(first.finished_at - current_time()) < timedelta(seconds=5)
    _views(appeal, story, 2)
    move_clock(timedelta(minutes=5))
    assert roll_up() == 2
    second = last_rollup()
    assert second.version == 1 and second.finished_at - first.finished_at >= timedelta(minutes=5)
    assert db.session.scalar(select(func.count()).select_from(RollupState)) == 1


def test_worker_rolls_up_when_nobody_has_for_half_its_interval(app, tested_appeal):
    """The worker's job rolls up only when nobody has within half
    TRACKING_WORKER_ROLLUP_SECONDS, whatever the app's threads' TRACKING_ROLLUP_SECONDS."""
    appeal, story = tested_appeal
    app.config.update(TRACKING_ROLLUP_SECONDS=60, TRACKING_WORKER_ROLLUP_SECONDS=4)
    stop = threading.Event()
    _views(appeal, story, 1)
    run_worker(stop, once=True, jobs=(_roll_up_job(),))
    assert _inbox() == 0
    _views(appeal, story, 1)
    run_worker(stop, once=True, jobs=(_roll_up_job(),))
    assert _inbox() == 1  # rolled up a moment ago: not due
    move_clock(timedelta(seconds=2.5))
    run_worker(stop, once=True, jobs=(_roll_up_job(),))
    assert _inbox() == 0


def test_app_thread_waits_half_its_own_interval(app, tested_appeal):
    """The app's thread (roll_up_if_due) keeps TRACKING_ROLLUP_SECONDS."""
    appeal, story = tested_appeal
    app.config["TRACKING_ROLLUP_SECONDS"] = 60
    _views(appeal, story, 1)
    assert roll_up_if_due() == 1
    _views(appeal, story, 1)
    move_clock(timedelta(seconds=29))
    assert roll_up_if_due() is None
    move_clock(timedelta(seconds=2))
    assert roll_up_if_due() == 1


def _roll_up_job():
    from supportapp.services.worker import JOBS

    (job,) = [j for j in JOBS if j.__name__ == "roll_up_often"]
    return job


def test_app_thread_rolls_up_and_stops(app, client, tested_appeal):
    """With TRACKING_ROLLUP_SECONDS set, the first request starts one thread per process,
    which rolls up on its own; stop() ends it."""
    appeal, story = tested_appeal
    rollup = background_rollup(app)
    assert not rollup.running  # the tests' setting keeps it off
    client.get("/health")
    assert not rollup.running
    app.config["TRACKING_ROLLUP_SECONDS"] = 0.2
    _views(appeal, story, 4)
    try:
        client.get("/health")
        client.get("/health")
        assert rollup.running
        assert [t.name for t in threading.enumerate()].count("background-rollup") == 1
        deadline = time.monotonic() + 10
        while _inbox() or last_rollup().finished_at is None:  # the roll-up ends by stamping
            assert time.monotonic() < deadline, "the thread did not roll up within 10 s"
            time.sleep(0.05)
        assert last_rollup().version == 1
    finally:
        rollup.stop()
    assert not rollup.running


def test_pages_and_api_say_as_of(app, staff_client, tested_appeal):
    """Before any roll-up the pages say so and the API's as_of is null; after one, both tell
    its time."""
    appeal, story = tested_appeal
    client = staff_client("viewer")
    token = create_token(client.staff, "tests")
    auth = {"Authorization": f"Bearer {token}"}
    urls = ("/dashboard/stories", f"/dashboard/stories/{story.id}",
            f"/dashboard/appeals/{appeal.id}")
    for url in urls:
        assert "not rolled up yet" in _as_of_line(client.get(url))
    assert client.get("/api/reports/stories", headers=auth).json["as_of"] is None
    roll_up()
    finished = last_rollup().finished_at
    for url in urls:
        assert _as_of_line(client.get(url)).endswith(f"as of {finished:%H:%M} UTC")
    for url in ("/api/reports/stories", f"/api/reports/variants?appeal={appeal.id}"):
        as_of = client.get(url, headers=auth).json["as_of"]
        assert datetime.fromisoformat(as_of) == finished


def _as_of_line(response):
    assert response.status_code == 200
    (line,) = lxml.html.fromstring(response.data.decode()).xpath("//p[contains(@class,'as-of')]")
    return line.text_content().strip()


def test_statistics_computed_once_per_appeal_period_and_counts(app, tested_appeal,
                                                               monkeypatch):
    """A second report over the same data reuses the statistics; a new gift recomputes them."""
    appeal, story = tested_appeal
    calls = []
    real = variant_stats.chance_to_beat
    monkeypatch.setattr("supportapp.services.reports.chance_to_beat",
                        lambda *a: calls.append(a) or real(*a))
    _views(appeal, story, 50, variant=0)
    _views(appeal, story, 40, variant=1)
    # A reader of variant 1 who started a checkout: the gift below converts (conversions
    # never pass the funnel's own checkouts).
    record_events([TrackedEvent("checkout", story.id, appeal.id, appeal.variants[1].id,
                                "reader-who-gives")])
    roll_up()
    first = variants_table(appeal.id, _period())
    again = variants_table(appeal.id, _period())
    assert len(calls) == 1
    assert [(r.ci_low, r.chance_beats_control) for r in first] == \
        [(r.ci_low, r.chance_beats_control) for r in again]
    db.session.add(Contribution(amount_minor=500, currency="USD", frequency="one_off",
                                status="paid", story_id=story.id, appeal_id=appeal.id,
                                variant_id=appeal.variants[1].id, paid_at=datetime.now(UTC),
                                reader_id="reader-who-gives"))
    db.session.commit()
    after_gift = variants_table(appeal.id, _period())
    assert len(calls) == 2 and after_gift[1].conversions == 1
    assert after_gift[1].chance_beats_control > first[1].chance_beats_control
    variants_table(appeal.id, parse_period("30d", None, None, datetime.now(UTC).date()))
    assert len(calls) == 3  # another period: computed for it


def test_statistics_cache_expires(database_url):
    """The cache keeps answers for REPORT_CACHE_SECONDS, then computes afresh."""
    from supportapp.caches import app_caches
    from tests.conftest import make_app

    short = make_app(database_url, REPORT_CACHE_SECONDS=1)
    with short.app_context():
        memo, calls = app_caches().report_tables, []
        memo.get("key", lambda: calls.append(1))
        memo.get("key", lambda: calls.append(1))
        assert len(calls) == 1 and len(memo) == 1
        time.sleep(1.1)
        assert len(memo) == 0
        memo.get("key", lambda: calls.append(1))
        assert len(calls) == 2


@pytest.mark.parametrize("url", ["/dashboard/stories/99999", "/dashboard/appeals/99999",
                                 "/dashboard/export/variants.csv?appeal=99999"])
def test_unknown_story_or_appeal_is_a_400_saying_so(staff_client, url):
    """A report about an appeal or story that does not exist says so, with status 400."""
    response = staff_client("viewer").get(url)
    assert response.status_code == 400
    subject = "story" if "stories" in url else "appeal"
    assert f"there is no {subject} number 99999" in response.data.decode()


def test_period_over_three_years_is_400_in_the_api(app, make_staff):
    """Three years and more, or an end before the start: 400 with the reason in JSON."""
    token = create_token(make_staff("viewer"), "tests")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    for query, message in (("start=2020-01-01&end=2023-12-31", "at most three years"),
                           ("start=2024-02-01&end=2024-01-01", "end date comes before")):
        response = client.get(f"/api/reports/stories?period=custom&{query}", headers=auth)
        assert response.status_code == 400 and message in response.json["error"]["message"]


def test_kept_tables_follow_payments_and_roll_ups(app, tested_appeal):
    """A stories table kept between views is the table now: a payment or a roll-up that
    moved events gives the next view the new figures."""
    appeal, story = tested_appeal
    _views(appeal, story, 5)
    roll_up()
    (row,) = stories_table(_period())
    assert (row.viewable, row.contributions) == (5, 0)
    assert stories_table(_period())[0] is row  # kept: the data did not move
    db.session.add(Contribution(amount_minor=700, currency="USD", frequency="one_off",
                                status="paid", story_id=story.id, appeal_id=appeal.id,
                                variant_id=appeal.variants[0].id, paid_at=datetime.now(UTC)))
    db.session.commit()
    assert stories_table(_period())[0].contributions == 1
    _views(appeal, story, 2, variant=1)
    assert stories_table(_period())[0].viewable == 5  # not rolled up yet
    roll_up()
    assert stories_table(_period())[0].viewable == 7


def test_stories_page_shows_fifty_a_page(staff_client, tested_appeal, make_story):
    """With more stories than a page holds, the rest are a "Next" link away."""
    appeal, _story = tested_appeal
    for n in range(51):
        _views(appeal, make_story(slug=f"paged-{n}"), n + 1)
    roll_up()
    client = staff_client("viewer")
    first = lxml.html.fromstring(client.get("/dashboard/stories?sort=-viewable").data)
    assert len(first.xpath("(//table)[1]/tbody/tr")) == 50
    (next_link,) = first.xpath("//nav[@class='pager']//a[contains(., 'Next')]")
    second = lxml.html.fromstring(client.get(next_link.get("href")).data)
    assert [a.text for a in second.xpath("(//table)[1]/tbody/tr/td[1]/a")] == \
        ["Story number 2"]
    assert "51 stories · page 2 of 2" in second.text_content()


def test_kept_story_sheet_follows_a_refund_of_an_old_gift(tested_appeal):
    """The stories page's lifetime values are kept between roll-ups, yet a refund of a gift
    paid long before the period (so outside the period's stamp) shows at once."""
    from supportapp.services.report_sheets import stories_sheet

    appeal, story = tested_appeal
    _views(appeal, story, 10)
    roll_up()
    old = Contribution(amount_minor=2000, currency="USD", frequency="one_off", status="paid",
                       story_id=story.id, appeal_id=appeal.id, fee_minor=88,
                       paid_at=datetime.now(UTC) - timedelta(days=200))
    db.session.add(old)
    db.session.commit()
    rows = stories_table(_period())
    before = stories_sheet(_period(), rows).lifetime[story.id].money["USD"]
    assert (before.gross, before.refunds, before.net) == (2000, 0, 1912)
    old.amount_refunded_minor = 500
    old.refresh_status()
    db.session.commit()
    after = stories_sheet(_period(), rows).lifetime[story.id].money["USD"]
    assert (after.gross, after.refunds, after.net) == (2000, 500, 1412)


def test_the_worker_holds_no_transaction_while_it_waits(app, tested_appeal):
    """A pass ends with its session's transaction: an idle one would hold back PostgreSQL's
    clean-up of the inbox rows roll-ups delete."""
    seen = []

    def reads(stop):
        db.session.execute(select(func.count()).select_from(TrackingInbox))
        seen.append(db.session().in_transaction())

    run_worker(threading.Event(), once=True, jobs=(reads,))
    assert seen == [True]
    assert not db.session().in_transaction()

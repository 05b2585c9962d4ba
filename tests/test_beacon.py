"""POST /api/events: validation, dedup, bots, privacy, and the rollups it feeds."""
import json

import pytest
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, DailyFunnel, Story, TrackingEvent
from supportapp.services.appeals import save_appeal
from supportapp.services.tracking import last_rollup, roll_up

BROWSER = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0 Safari/537.36")


@pytest.fixture
def tracked(app, make_story):
    """A story and a live appeal with one variant; returns (story, appeal, variant)."""
    appeal = Appeal(name="Drive", status="live", target_sections=[], excluded_sections=[])
    variant = AppealVariant(name="c", heading="H", body="<p>B</p>", cta_label="Give",
                            preset_amounts={}, default_frequency="monthly", weight=1,
                            is_control=True)
    appeal.variants.append(variant)
    save_appeal(appeal)
    return make_story(slug="tracked-story"), appeal, variant


def _beacon(client, events, pv="pageview-0001", headers=None, **extra):
    body = json.dumps({"pv": pv, "events": events, **extra})
    return client.post("/api/events", data=body, content_type="text/plain",
                       headers={"User-Agent": BROWSER, **(headers or {})})


def _view(story, appeal, variant, kind="view"):
    return {"type": kind, "story": story.slug, "appeal": appeal.id, "variant": variant.id}


def _funnel():
    roll_up()
    row = db.session.execute(select(
        func.coalesce(func.sum(DailyFunnel.rendered), 0),
        func.coalesce(func.sum(DailyFunnel.viewable), 0),
        func.coalesce(func.sum(DailyFunnel.clicks), 0))).one()
    return tuple(row)


def test_view_counted_once_per_reader_and_day(client, tracked):
    """A reader's repeated views of one variant in one story count once a day."""
    story, appeal, variant = tracked
    client.set_cookie("sa_rid", "reader-aaaaaaaaaaaaaaaa")
    for pv in ("pageview-0001", "pageview-0002", "pageview-0001"):
        assert _beacon(client, [_view(*tracked)], pv=pv).status_code == 204
    assert _funnel() == (0, 1, 0)
    client.set_cookie("sa_rid", "reader-bbbbbbbbbbbbbbbb")
    _beacon(client, [_view(*tracked), _view(*tracked, kind="click")])
    assert _funnel() == (0, 2, 1)


def test_bulk_replay_counts_nothing_twice(client, tracked):
    """The same anonymous beacon sent 50 times counts once."""
    for _ in range(50):
        assert _beacon(client, [_view(*tracked), _view(*tracked, kind="click")]).status_code == 204
    assert _funnel() == (0, 1, 1)
    _beacon(client, [_view(*tracked)], pv="pageview-other")
    assert _funnel() == (0, 2, 1)


@pytest.mark.parametrize("agent", ["Googlebot/2.1 (+http://www.google.com/bot.html)",
                                   "python-requests/2.31", "curl/8.5.0", ""])
def test_bots_dropped(client, tracked, agent):
    """Crawlers and scripts get a 204 and count nothing."""
    response = _beacon(client, [_view(*tracked)], headers={"User-Agent": agent})
    assert response.status_code == 204
    assert _funnel() == (0, 0, 0)


def test_unknown_story_or_variant_ignored(client, tracked):
    """Unknown slugs and variants, or a variant of another appeal, are ignored; no story made."""
    story, appeal, variant = tracked
    stories = db.session.scalar(select(func.count()).select_from(Story))
    events = [
        {"type": "view", "story": "no-such-story", "appeal": appeal.id, "variant": variant.id},
        {"type": "view", "story": story.slug, "appeal": appeal.id, "variant": 99999},
        {"type": "view", "story": story.slug, "appeal": appeal.id + 1, "variant": variant.id},
    ]
    assert _beacon(client, events).status_code == 204
    assert _funnel() == (0, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(Story)) == stories


def _one(kind="view", story="s", appeal=1, variant=1):
    return json.dumps({"type": kind, "story": story, "appeal": appeal, "variant": variant})


@pytest.mark.parametrize("body", [
    "not json", "[]", '{"events": []}', '{"pv": "pageview-1", "events": "x"}',
    '{"events": [{"type": "view", "story": "s", "appeal": 1, "variant": 1}]}',
    '{"pv": "p", "events": [{"type": "view", "story": "s", "appeal": 1, "variant": 1}]}',
    '{"pv": "pageview-1", "events": [' + _one(kind="rendered") + "]}",
    '{"pv": "pageview-1", "events": [' + _one(kind=["view"]) + "]}",  # was a 500: unhashable
    '{"pv": "pageview-1", "events": [' + _one(kind={"view": 1}) + "]}",
    '{"pv": "pageview-1", "events": [' + _one(story="Bad Slug") + "]}",
    '{"pv": "pageview-1", "events": [{"type": "view", "story": "s", "appeal": "1", "variant": 1}]}',
    '{"pv": "pageview-1", "events": [{"type": "view", "story": "s", "appeal": 1, "variant": -4}]}',
    '{"pv": "pageview-1", "events": [' + ",".join(
        ['{"type": "view", "story": "s", "appeal": 1, "variant": 1}'] * 21) + "]}",
    b"\xff\xfe\x00garbage",
])
def test_malformed_beacons_are_400(client, tracked, body):
    """Bodies our script never sends are refused with 400 and count nothing."""
    response = client.post("/api/events", data=body, content_type="text/plain",
                           headers={"User-Agent": BROWSER})
    assert response.status_code == 400
    assert _funnel() == (0, 0, 0)


def test_oversized_beacon_is_413(client, tracked):
    """A body over the limit is refused before it is read."""
    response = _beacon(client, [_view(*tracked)], padding="x" * 5000)
    assert response.status_code == 413


def test_gpc_reader_id_not_stored(client, tracked):
    """With Sec-GPC the reader id in the cookie is neither used nor stored."""
    client.set_cookie("sa_rid", "reader-cccccccccccccccc")
    _beacon(client, [_view(*tracked)], headers={"Sec-GPC": "1"})
    roll_up()
    assert db.session.scalars(select(TrackingEvent.reader_id)).all() == [None]


@pytest.mark.parametrize("reader", [[1], 5, {"id": "reader-cccccccccccccccc"}, True, None])
def test_reader_id_that_is_not_text_is_ignored(client, tracked, reader):
    """A beacon "reader" that is not a string: the view counts, without a reader id."""
    assert _beacon(client, [_view(*tracked)], reader=reader).status_code == 204
    roll_up()
    assert db.session.scalars(select(TrackingEvent.reader_id)).all() == [None]


def test_story_page_records_rendered(client, tracked):
    """Putting the appeal into a story page counts one rendered event for its variant."""
    story, appeal, variant = tracked
    client.get(f"/stories/{story.slug}")
    client.get(f"/stories/{story.slug}")
    roll_up()
    row = db.session.scalars(select(DailyFunnel)).one()
    assert (row.story_id, row.appeal_id, row.variant_id, row.rendered) == \
        (story.id, appeal.id, variant.id, 2)


def test_rollup_moves_each_event_once(client, tracked):
    """Events leave the inbox for the archive exactly once, however often roll_up runs."""
    client.set_cookie("sa_rid", "reader-dddddddddddddddd")
    _beacon(client, [_view(*tracked), _view(*tracked, kind="click")])
    assert roll_up() == 2
    assert roll_up() == 0
    assert db.session.scalar(select(func.count()).select_from(TrackingEvent)) == 2
    assert _funnel() == (0, 1, 1)


def test_rollup_cli(client, runner, tracked):
    """`flask tracking rollup` folds accepted events and says how many."""
    client.set_cookie("sa_rid", "reader-eeeeeeeeeeeeeeee")
    _beacon(client, [_view(*tracked)])
    result = runner.invoke(args=["tracking", "rollup"])
    assert result.exit_code == 0 and "Rolled up 1 events;" in result.output
    assert _funnel() == (0, 1, 0)
    finished = last_rollup().finished_at
    assert f"reports are as of {finished:%Y-%m-%d %H:%M} UTC" in result.output


def test_concurrent_rollups_count_each_event_once(app, tracked):
    """Two processes rolling up at the same time still count every event exactly once."""
    import threading

    from supportapp.services.tracking import TrackedEvent, record_events

    story, appeal, variant = tracked
    record_events([TrackedEvent("rendered", story.id, appeal.id, variant.id)] * 3000)
    moved, errors = [], []

    def worker():
        with app.app_context():
            try:
                moved.append(roll_up(batch=250))
            except Exception as exc:  # surfaced by the assertion below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(moved) == 3000
    assert db.session.scalar(select(func.count()).select_from(TrackingEvent)) == 3000
    assert _funnel() == (3000, 0, 0)


def test_checkout_started_counted_once_per_session(client, fake_stripe, tracked):
    """Starting Checkout from a story counts one checkout for its variant, even on a resubmit."""
    story, appeal, variant = tracked
    form = {"frequency": "one_off", "amount": "5", "currency": "USD", "nonce": "n" * 24,
            "email": "reader@example.com", "story": story.slug, "appeal": str(appeal.id),
            "variant": str(variant.id)}
    assert client.post("/contribute", data=form).status_code == 303
    assert client.post("/contribute", data=form).status_code == 303  # same idempotent session
    roll_up()
    row = db.session.scalars(select(DailyFunnel)).one()
    assert (row.story_id, row.variant_id, row.checkouts) == (story.id, variant.id, 1)


def test_checkout_with_foreign_variant_not_attributed(client, fake_stripe, tracked):
    """A posted variant that is not of the posted appeal is counted without a variant."""
    story, appeal, variant = tracked
    form = {"frequency": "one_off", "amount": "5", "currency": "USD", "nonce": "m" * 24,
            "email": "reader@example.com", "story": story.slug, "appeal": str(appeal.id + 7),
            "variant": str(variant.id)}
    assert client.post("/contribute", data=form).status_code == 303
    roll_up()
    row = db.session.scalars(select(DailyFunnel)).one()
    assert (row.story_id, row.appeal_id, row.variant_id, row.checkouts) == (story.id, 0, 0, 1)


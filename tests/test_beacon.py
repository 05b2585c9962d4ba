"""POST /api/events: validation, dedup, bots, privacy, and the rollups it feeds."""
import io
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
    """A reader's repeated views of one variant in one story count once a day (a view
    implies the appeal was shown, even when its rendering was not counted)."""
    story, appeal, variant = tracked
    client.set_cookie("sa_rid", "reader-aaaaaaaaaaaaaaaa")
    for pv in ("pageview-0001", "pageview-0002", "pageview-0001"):
        assert _beacon(client, [_view(*tracked)], pv=pv).status_code == 204
    assert _funnel() == (1, 1, 0)
    client.set_cookie("sa_rid", "reader-bbbbbbbbbbbbbbbb")
    _beacon(client, [_view(*tracked), _view(*tracked, kind="click")])
    assert _funnel() == (2, 2, 1)


def test_bulk_replay_counts_nothing_twice(client, tracked):
    """The same anonymous beacon sent 50 times counts once."""
    for _ in range(50):
        assert _beacon(client, [_view(*tracked), _view(*tracked, kind="click")]).status_code == 204
    assert _funnel() == (1, 1, 1)
    _beacon(client, [_view(*tracked)], pv="pageview-other")
    assert _funnel() == (2, 2, 1)


def test_beacon_replayed_after_its_roll_up_counts_nothing_more(client, tracked):
    """Views and clicks count once through the reader funnel (every one received is kept in
    the archive); an offer, which no funnel stage folds, once through its key."""
    client.set_cookie("sa_rid", "reader-ffffffffffffffff")
    events = [_view(*tracked), _view(*tracked, kind="click"), _view(*tracked, kind="offer")]
    for _ in range(2):
        assert _beacon(client, events).status_code == 204
        assert _funnel() == (1, 1, 1)
    assert db.session.scalar(select(func.sum(DailyFunnel.offers_shown))) == 1
    kinds = sorted(db.session.scalars(select(TrackingEvent.kind)))
    assert kinds == ["click", "click", "offer", "view", "view"]


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


def _chunked_beacon(client, body):
    """A beacon sent with Transfer-Encoding: chunked (no Content-Length)."""
    # As gunicorn hands it on: the body whole, marked as ending where its stream ends.
    return client.post("/api/events", input_stream=io.BytesIO(body.encode()),
                       content_type="text/plain",
                       headers={"User-Agent": BROWSER, "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_beacon_without_a_declared_length_is_read_too(client, tracked):
    """The one-read fast path needs a Content-Length within the limit; a chunked body is read
    through werkzeug, counted when it fits and refused past the limit (werkzeug stops reading
there, so what is left is not JSON)."""
    body = json.dumps({"pv": "pageview-0002", "events": [_view(*tracked)]})
    assert _chunked_beacon(client, body).status_code == 204
    assert _funnel() == (1, 1, 0)  # a view implies the appeal was shown
    padded = json.dumps({"pv": "pageview-0003", "events": [_view(*tracked)], "x": "y" * 5000})
    refused = _chunked_beacon(client, padded)
    assert refused.status_code == 400
    assert _funnel() == (1, 1, 0)


def test_beacon_of_exactly_the_limit_is_read_whole(client, tracked):
    """A declared length of MAX_BODY_BYTES is read in full (and past it, 413 above)."""
    from supportapp.services.beacon import MAX_BODY_BYTES

    body = json.dumps({"pv": "pageview-0004", "events": [_view(*tracked)], "x": ""})
    body = body[:-2] + "x" * (MAX_BODY_BYTES - len(body)) + body[-2:]
    assert len(body) == MAX_BODY_BYTES
    assert _beacon_raw(client, body).status_code == 204
    assert _funnel() == (1, 1, 0)


def _beacon_raw(client, body):
    return client.post("/api/events", data=body, content_type="text/plain",
                       headers={"User-Agent": BROWSER})


def test_gpc_reader_id_not_stored(client, tracked):
    """With Sec-GPC the reader id in the cookie is neither used nor stored."""
    client.set_cookie("sa_rid", "reader-cccccccccccccccc")
    _beacon(client, [_view(*tracked)], headers={"Sec-GPC": "1"})
    roll_up()
    assert db.session.scalars(select(TrackingEvent.reader_id)).all() == [None]


@pytest.mark.parametrize(("cookies", "stored"), [
    ({"other": "x", "sa_rid": "reader-ffffffffffffffff"}, "reader-ffffffffffffffff"),
    ({"other": "x", "xsa_ridx": "reader-ffffffffffffffff"}, "reader-gggggggggggggggg"),
    ({}, "reader-gggggggggggggggg"),
])
def test_reader_cookie_wins_over_the_body_only_when_sent(client, tracked, cookies, stored):
    """Our cookie among others is the reader id; without it (no Cookie header, or only
    other cookies, one of a name containing ours) the id in the body counts."""
    for name, value in cookies.items():
        client.set_cookie(name, value)
    _beacon(client, [_view(*tracked)], reader="reader-gggggggggggggggg")
    roll_up()
    assert db.session.scalars(select(TrackingEvent.reader_id)).all() == [stored]


@pytest.mark.parametrize("reader", [[1], 5, {"id": "reader-cccccccccccccccc"}, True, None])
def test_reader_id_that_is_not_text_is_ignored(client, tracked, reader):
    """A beacon "reader" that is not a string: the view counts, without a reader id."""
    assert _beacon(client, [_view(*tracked)], reader=reader).status_code == 204
    roll_up()
    assert db.session.scalars(select(TrackingEvent.reader_id)).all() == [None]


def test_story_page_records_rendered(client, tracked):
    """Putting the appeal into a story page counts it shown for its variant, once per reader
    (the cookie the first page set) and day; without a reader id, once per page view."""
    story, appeal, variant = tracked
    client.get(f"/stories/{story.slug}")
    client.get(f"/stories/{story.slug}")
    client.get(f"/stories/{story.slug}", headers={"DNT": "1"})
    client.get(f"/stories/{story.slug}", headers={"DNT": "1"})
    roll_up()
    row = db.session.scalars(select(DailyFunnel)).one()
    assert (row.story_id, row.appeal_id, row.variant_id, row.rendered) == \
        (story.id, appeal.id, variant.id, 3)


def test_rollup_moves_each_event_once(client, tracked):
    """Events leave the inbox for the archive exactly once, however often roll_up runs."""
    client.set_cookie("sa_rid", "reader-dddddddddddddddd")
    _beacon(client, [_view(*tracked), _view(*tracked, kind="click")])
    assert roll_up() == 2
    assert roll_up() == 0
    assert db.session.scalar(select(func.count()).select_from(TrackingEvent)) == 2
    assert _funnel() == (1, 1, 1)


def test_rollup_cli(client, runner, tracked):
    """`flask tracking rollup` folds accepted events and says how many."""
    client.set_cookie("sa_rid", "reader-eeeeeeeeeeeeeeee")
    _beacon(client, [_view(*tracked)])
    result = runner.invoke(args=["tracking", "rollup"])
    assert result.exit_code == 0 and "Rolled up 1 events;" in result.output
    assert _funnel() == (1, 1, 0)
    finished = last_rollup().finished_at
    assert f"reports are as of {finished:%Y-%m-%d %H:%M} UTC" in result.output


def test_concurrent_rollups_count_each_event_once(app, tracked):
    """Two processes rolling up at the same time still count every event exactly once."""

    from supportapp.services.tracking import TrackedEvent, record_events

    story, appeal, variant = tracked
    record_events([TrackedEvent("rendered", story.id, appeal.id, variant.id)] * 3000)
    moved = _roll_up_in_threads(app, batch=250)
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



def test_reader_without_id_joins_by_page_view(client, fake_stripe, tracked):
    """Without a reader id (Do Not Track) the story page's page view id joins its rendering,
    its click beacon and its checkout: one reader who reached the checkout, not three."""
    import re

    from supportapp.models import ReaderFunnel

    story, appeal, variant = tracked
    page = client.get(f"/stories/{story.slug}", headers={"DNT": "1"}).get_data(as_text=True)
    pv = re.search(r'data-pv="([A-Za-z0-9_-]+)"', page).group(1)
    assert f'name="pv" value="{pv}"' in page  # the appeal's form carries it to the checkout
    assert _beacon(client, [_view(*tracked, kind="click")], pv=pv,
                   headers={"DNT": "1"}).status_code == 204
    form = {"frequency": "one_off", "amount": "5", "currency": "USD", "nonce": "p" * 24,
            "email": "reader@example.com", "story": story.slug, "appeal": str(appeal.id),
            "variant": str(variant.id), "pv": pv}
    assert client.post("/contribute", data=form, headers={"DNT": "1"}).status_code == 303
    roll_up()
    row = db.session.scalars(select(ReaderFunnel)).one()
    assert (row.reader_key, row.stage, row.view_reported) == (f"pv:{pv}", 4, False)
    funnel = db.session.scalars(select(DailyFunnel)).one()
    assert (funnel.rendered, funnel.viewable, funnel.clicks, funnel.checkouts,
            funnel.views_reported) == (1, 1, 1, 1, 0)


def test_concurrent_rollups_count_each_reader_once(app, tracked):
    """Readers' repeated events rolled up by three processes at once: each reader counts
    once (a roll-up never counts a step another one already counted)."""

    from supportapp.services.tracking import TrackedEvent, record_events

    story, appeal, variant = tracked
    # Every batch holds the same readers, so the threads work on the same rows at once.
    readers = [f"reader-{n:016d}" for n in range(20)]
    events = [TrackedEvent(kind, story.id, appeal.id, variant.id, reader)
              for _ in range(40) for kind in ("rendered", "view") for reader in readers]
    record_events(events)
    assert sum(_roll_up_in_threads(app, batch=len(readers))) == len(events)
    assert _funnel() == (20, 20, 0)


def _roll_up_in_threads(app, batch, threads=3):
    """roll_up in several threads at once (each its own connection); what each moved."""
    import threading

    moved, errors = [], []

    def worker():
        with app.app_context():
            try:
                moved.append(roll_up(batch=batch))
            except Exception as exc:  # surfaced by the assertion below
                errors.append(exc)
            finally:
                db.session.remove()

    running = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=60)
    assert errors == []
    return moved


def test_roll_up_archives_each_inbox_row_as_it_was(app, tracked):
    """In batches smaller than the inbox, every row reaches the archive once, unchanged (on
    SQLite the archive copy is made in SQL, the funnels from the rows the delete returns)."""
    from datetime import UTC, datetime, timedelta

    from supportapp.models import TrackingInbox
    from supportapp.services.tracking import TrackedEvent, record_events

    story, appeal, variant = tracked
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    record_events([TrackedEvent(kind, story.id, appeal.id, variant.id, reader,
                                page_view=f"pv-{n}", at=at + timedelta(seconds=n))
                   for n, (kind, reader) in enumerate(
                       [("rendered", "r1"), ("view", "r1"), ("rendered", None),
                        ("click", "r2"), ("view", None), ("rendered", "r3"), ("view", "r3")])])
    columns = ("received_at", "day", "kind", "story_id", "appeal_id", "variant_id",
               "reader_id", "page_view")  # not the id: the archive numbers its own rows
    before = db.session.execute(select(*[getattr(TrackingInbox, c) for c in columns])
                                .order_by(TrackingInbox.received_at)).all()
    assert roll_up(batch=3) == 7
    after = db.session.execute(select(*[getattr(TrackingEvent, c) for c in columns])
                               .order_by(TrackingEvent.received_at)).all()
    assert after == before and len(after) == 7
    assert db.session.scalar(select(func.count()).select_from(TrackingInbox)) == 0

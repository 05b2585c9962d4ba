"""Beacons while the database is away: known targets are journaled, nothing answered is lost."""
import json
import socket

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, DailyFunnel, TrackingEvent
from supportapp.services.appeals import save_appeal
from supportapp.services.event_journal import app_journal
from supportapp.services.known_targets import SNAPSHOT_NAME
from supportapp.services.tracking import roll_up
from tests.conftest import make_app
from tests.tcp_proxy import CuttableProxy

BROWSER = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0 Safari/537.36")


@pytest.fixture
def tracked(app, make_story):
    """A story and a live appeal with one variant; returns plain (slug, appeal id, variant id)."""
    appeal = Appeal(name="Drive", status="live", target_sections=[], excluded_sections=[])
    appeal.variants.append(AppealVariant(name="c", heading="H", body="<p>B</p>", cta_label="G",
                                         preset_amounts={}, default_frequency="one_off",
                                         weight=1, is_control=True))
    save_appeal(appeal)
    story = make_story(slug="outage-story")
    return story.slug, appeal.id, appeal.variants[0].id


@pytest.fixture
def unreachable_url(database_url, tmp_path):
    """A database address of the same backend where no database answers."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'gone' / 'supportapp.db'}"
        return
    with socket.socket() as bound:  # bound, never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        yield make_url(database_url).set(port=bound.getsockname()[1]).render_as_string(False)


def _worker(url, folder, journal_seconds=3600):
    """Another app process's view of things: its own lists, caches and journal."""
    return make_app(url, TRACKING_JOURNAL_SECONDS=journal_seconds,
                    TRACKING_JOURNAL_DIR=str(folder))


def _beacon(client, target, pv):
    slug, appeal_id, variant_id = target
    body = {"pv": pv, "events": [{"type": "view", "story": slug, "appeal": appeal_id,
                                  "variant": variant_id}]}
    return client.post("/api/events", data=json.dumps(body), content_type="text/plain",
                       headers={"User-Agent": BROWSER})


def _views():
    roll_up()
    return db.session.scalar(select(func.coalesce(func.sum(DailyFunnel.viewable), 0)))


def _unknown(target):
    slug, appeal_id, variant_id = target
    return [("no-such-story", appeal_id, variant_id), (slug, appeal_id, 99999),
            (slug, appeal_id + 1, variant_id)]


def test_new_worker_starts_warm_from_the_snapshot(app, client, tracked, tmp_path,
                                                  unreachable_url):
    """A worker started while the database is away reads the snapshot: known targets are
    journaled (204) and counted later, unknown ones are dropped (204) and count nothing."""
    app.config.update(TRACKING_JOURNAL_SECONDS=3600, TRACKING_JOURNAL_DIR=str(tmp_path))
    assert _beacon(client, tracked, "before-outage").status_code == 204
    assert (tmp_path / SNAPSHOT_NAME).exists()
    worker = _worker(unreachable_url, tmp_path)
    worker_client = worker.test_client()
    assert _beacon(worker_client, tracked, "during-outage").status_code == 204
    for n, target in enumerate(_unknown(tracked)):
        assert _beacon(worker_client, target, f"unknown-{n:04d}").status_code == 204
    app_journal(worker).close()  # as when the worker's round finishes its file
    assert _views() == 2
    assert db.session.scalar(select(func.count()).select_from(TrackingEvent)) == 2


def test_no_list_and_no_database_is_503(app, tracked, tmp_path, unreachable_url):
    """With no list in memory or on disk and the database away, a beacon is refused (503)."""
    response = _beacon(_worker(unreachable_url, tmp_path).test_client(), tracked, "nothing-known")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert list(tmp_path.glob("events-*")) == []


@pytest.fixture
def postgres_proxy(database_url):
    """A cuttable proxy in front of the test PostgreSQL database."""
    if database_url.startswith("sqlite"):
        pytest.skip("an outage of a database server: PostgreSQL only")
    url = make_url(database_url)
    proxy = CuttableProxy(url.host, url.port or 5432)
    proxy.url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    yield proxy
    proxy.close()


def test_beacons_answered_during_an_outage_are_counted_after_it(app, tracked, tmp_path,
                                                                postgres_proxy):
    """Cut PostgreSQL away: every beacon for a known target still gets its 204 (journal), the
    database is tried at most once per retry window, and all of them count once it is back."""
    worker = _worker(postgres_proxy.url, tmp_path)
    client = worker.test_client()
    assert _beacon(client, tracked, "before-outage").status_code == 204
    postgres_proxy.cut()
    statuses = [_beacon(client, tracked, f"outage-{n:04d}").status_code for n in range(20)]
    unknown = [_beacon(client, t, f"unknown-{n:04d}").status_code
               for n, t in enumerate(_unknown(tracked))]
    assert statuses == [204] * 20 and unknown == [204] * 3
    # TRACKING_LOOKUP_SECONDS is 0 here: without the retry window, 23 attempts.
    assert 1 <= postgres_proxy.attempts_while_cut <= 2  # libpq may try twice (SSL, then not)
    with worker.app_context(), pytest.raises(OperationalError):
        roll_up()  # the journal cannot be loaded yet; its files stay
    postgres_proxy.restore()
    with worker.app_context():
        assert roll_up() == 21
    assert _views() == 21
    with worker.app_context():
        db.session.remove()
        db.engine.dispose()


def test_without_the_journal_a_known_target_is_503(app, tracked, tmp_path, postgres_proxy):
    """With the journal off, an event that cannot be stored is refused (503), not a 500;
    a beacon for an unknown target stores nothing, so it is still a 204."""
    worker = _worker(postgres_proxy.url, tmp_path, journal_seconds=0)
    client = worker.test_client()
    assert _beacon(client, tracked, "before-outage").status_code == 204
    postgres_proxy.cut()
    response = _beacon(client, tracked, "during-outage")
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert _beacon(client, _unknown(tracked)[0], "unknown-0001").status_code == 204
    assert list(tmp_path.iterdir()) == []  # no journal, no snapshot
    postgres_proxy.restore()
    assert _views() == 1
    with worker.app_context():
        db.session.remove()
        db.engine.dispose()

"""The beacon's journal: events survive their process and count exactly once."""
import json
import os
import subprocess
import sys
import threading

import pytest
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import (
    Appeal,
    AppealVariant,
    DailyFunnel,
    TrackingEvent,
    TrackingInbox,
)
from supportapp.services.appeals import save_appeal
from supportapp.services.event_journal import HOST, _line, accept_events, app_journal
from supportapp.services.tracking import (
    TrackedEvent,
    count_chunks,
    count_events,
    last_rollup,
    roll_up,
)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


@pytest.fixture
def journal_app(app, tmp_path):
    """The app with the journal on (drained only when asked) in a fresh folder."""
    app.config["TRACKING_JOURNAL_SECONDS"] = 3600
    app.config["TRACKING_JOURNAL_DIR"] = str(tmp_path)
    return app


@pytest.fixture
def variant(journal_app, make_story):
    appeal = Appeal(name="Drive", status="live", target_sections=[], excluded_sections=[])
    appeal.variants.append(AppealVariant(name="c", heading="H", body="<p>B</p>", cta_label="G",
                                         preset_amounts={}, default_frequency="one_off",
                                         weight=1, is_control=True))
    save_appeal(appeal)
    return make_story(slug="journal-story"), appeal, appeal.variants[0]


def _views():
    roll_up()
    return db.session.scalar(select(func.coalesce(func.sum(DailyFunnel.viewable), 0)))


def _dead_pid():
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)


def test_beacons_go_through_the_journal(client, journal_app, variant, tmp_path):
    """A beacon is a journal line first; the next roll-up loads and counts it, once."""
    story, appeal, v = variant
    for n in range(3):
        body = {"pv": f"pageview-{n:04d}", "events": [
            {"type": "view", "story": story.slug, "appeal": appeal.id, "variant": v.id}]}
        response = client.post("/api/events", data=json.dumps(body), content_type="text/plain",
                               headers={"User-Agent": BROWSER})
        assert response.status_code == 204
    assert db.session.scalar(select(func.count()).select_from(TrackingInbox)) == 0
    assert list(tmp_path.glob("events-*"))  # the journal file
    assert _views() == 3
    assert list(tmp_path.glob("events-*")) == []
    assert _views() == 3


def test_file_of_a_dead_process_is_loaded_once(journal_app, variant, tmp_path):
    """A killed process's journal is loaded by another; loading it again counts nothing."""
    story, appeal, v = variant
    events = [TrackedEvent("view", story.id, appeal.id, v.id, None, f"k{n}") for n in range(5)]
    name = f"events-{HOST}-{_dead_pid()}-deadbeef_1.jsonl"
    content = _line(events[:3]) + _line(events[3:]) + b'{"at": "2026-11-2'  # torn last line
    (tmp_path / name).write_bytes(content)
    app_journal(journal_app).drain(str(tmp_path))
    assert _views() == 5
    (tmp_path / name).write_bytes(content)  # as if the process died before removing it
    app_journal(journal_app).drain(str(tmp_path))
    assert _views() == 5


def test_file_of_a_live_process_is_left_alone(journal_app, variant, tmp_path):
    """A file another live process is still writing is not taken from it."""
    story, appeal, v = variant
    name = f"events-{HOST}-{os.getppid()}-cafe0001_1.jsonl"
    (tmp_path / name).write_bytes(_line([TrackedEvent("view", story.id, appeal.id, v.id)]))
    app_journal(journal_app).drain(str(tmp_path))
    assert _views() == 0
    assert (tmp_path / name).exists()


def test_file_of_another_host_is_loaded(journal_app, variant, tmp_path):
    """An unlocked file is loaded whatever host or process wrote it (a renamed container)."""
    story, appeal, v = variant
    name = f"events-oldcontainer-{os.getpid()}-0ddba11_1.jsonl"
    (tmp_path / name).write_bytes(_line([TrackedEvent("view", story.id, appeal.id, v.id)]))
    assert app_journal(journal_app).drain(str(tmp_path)) == 1
    assert _views() == 1
    assert not (tmp_path / name).exists()


WRITER = """
import socket
import sys

host = sys.argv[6]
if host != "this-host":  # a container of another name that shares the journal folder
    socket.gethostname = lambda: host
from tests.conftest import make_app
from supportapp.services.event_journal import accept_events
from supportapp.services.tracking import TrackedEvent

database_url, folder, story, appeal, variant = sys.argv[1:6]
app = make_app(database_url, TRACKING_JOURNAL_SECONDS=3600, TRACKING_JOURNAL_DIR=folder)
with app.app_context():
    accept_events([TrackedEvent("view", int(story), int(appeal), int(variant), None, "w1")])
print("appended", flush=True)
sys.stdin.readline()
"""


def _writer(database_url, folder, story, appeal, v, host="this-host"):
    """A real process that journals one event and keeps its file open until told."""
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, database_url, str(folder), str(story.id),
         str(appeal.id), str(v.id), host],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert child.stdout.readline().strip() == "appended"
    return child


@pytest.mark.parametrize("host,ending", [("this-host", "killed"), ("othercontainer", "killed"),
                                         ("othercontainer", "exits")])
def test_file_locked_by_a_live_writer_waits_for_it(database_url, journal_app, variant,
                                                     tmp_path, host, ending):
    """A file whose writer (another process) holds its lock is loaded only once it is gone."""
    story, appeal, v = variant
    child = _writer(database_url, tmp_path, story, appeal, v, host)
    try:
        assert app_journal(journal_app).drain(str(tmp_path)) == 0
        assert _views() == 0
        [written] = tmp_path.glob("events-*")
        assert (host == "othercontainer") == ("-othercontainer-" in written.name)
    finally:
        if ending == "killed":
            child.kill()  # SIGKILL: no exit hook runs, the lock dies with the process
        child.stdin.close()
        child.wait(timeout=30)
    app_journal(journal_app).drain(str(tmp_path))
    assert _views() == 1
    assert list(tmp_path.glob("events-*")) == []


def test_two_apps_in_one_process_keep_their_own_journals(database_url, journal_app, variant,
                                                          tmp_path):
    """Another app's journal is its own: it cannot take this app's open file, then can."""
    from tests.conftest import make_app

    story, appeal, v = variant
    other = make_app(database_url, TRACKING_JOURNAL_SECONDS=3600,
                     TRACKING_JOURNAL_DIR=str(tmp_path))
    assert app_journal(other) is not app_journal(journal_app)
    with other.app_context():
        accept_events([TrackedEvent("view", story.id, appeal.id, v.id, None, "other")])
    assert app_journal(journal_app).drain(str(tmp_path)) == 0  # locked by the other app
    app_journal(other).close()
    assert app_journal(journal_app).drain(str(tmp_path)) == 1
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_journal_loads_at_a_normal_exit(database_url, journal_app, variant, tmp_path):
    """A process that exits normally loads its own journal on the way out (its exit hook)."""
    story, appeal, v = variant
    child = _writer(database_url, tmp_path, story, appeal, v)
    child.stdin.close()
    assert child.wait(timeout=30) == 0
    assert list(tmp_path.glob("events-*")) == []
    assert _archived() == 1  # counted, not left in the inbox for a roll-up
    assert _inbox() == 0


def test_no_event_that_got_its_204_is_lost_across_rotation(client, journal_app, variant,
                                                            tmp_path):
    """Beacons from several threads while the journal rotates and loads: every 204 counts."""
    story, appeal, v = variant
    event = {"type": "view", "story": story.slug, "appeal": appeal.id, "variant": v.id}
    journal_app.config["TRACKING_LOOKUP_SECONDS"] = 60
    answered, done = [], threading.Event()

    def send(worker):
        for n in range(60):
            body = {"pv": f"pv-{worker}-{n:04d}", "events": [event]}
            status = journal_app.test_client().post(
                "/api/events", data=json.dumps(body), content_type="text/plain",
                headers={"User-Agent": BROWSER}).status_code
            answered.append(status)

    def rotate():
        while not done.is_set():
            app_journal(journal_app).drain(str(tmp_path))

    rotator = threading.Thread(target=rotate)
    rotator.start()
    senders = [threading.Thread(target=send, args=(w,)) for w in range(4)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    done.set()
    rotator.join()
    assert answered.count(204) == len(answered) == 240
    assert _views() == 240


def test_lines_written_before_page_views_still_load():
    """A journal line of six fields (before page view ids) loads with no page view."""
    import json

    from supportapp.services.event_journal import _events_in

    line = {"at": "2026-11-30T03:00:00+00:00",
            "events": [["view", 1, 2, 3, None, "view|2026-11-30|1|3|pv:x"],
                       ["rendered", 1, 2, 3, None, None, "pageview-0001"]]}
    old, new = _events_in(json.dumps(line).encode())
    assert (old.kind, old.page_view, old.dedup_key) == ("view", None, "view|2026-11-30|1|3|pv:x")
    assert (new.kind, new.page_view) == ("rendered", "pageview-0001")


def _inbox():
    return db.session.scalar(select(func.count()).select_from(TrackingInbox))


def _archived():
    return db.session.scalar(select(func.count()).select_from(TrackingEvent))


def test_the_flusher_leaves_fresh_files_to_a_roll_up(journal_app, variant, tmp_path):
    """The web process's thread finishes its file every round but loads only files that no
    roll-up took within LEFT_FOR_ROLLUP_SECONDS: with a worker, loading stays out of the
    processes that answer readers; without one, nothing waits longer than that."""
    from supportapp.services.event_journal import LEFT_FOR_ROLLUP_SECONDS

    story, appeal, v = variant
    event = TrackedEvent("view", story.id, appeal.id, v.id, "reader-1", dedup_key="k1")
    accept_events([event])
    journal = app_journal(journal_app)
    journal.drain_quietly()
    (ready,) = tmp_path.glob("events-*.ready")  # finished, not loaded
    assert _archived() == 0
    written = ready.stat().st_mtime - LEFT_FOR_ROLLUP_SECONDS - 1
    os.utime(ready, (written, written))  # no roll-up came for longer than that
    journal.drain_quietly()
    assert not list(tmp_path.glob("events-*"))
    assert _archived() == 1 and _inbox() == 0
    # Counted as it loaded: no roll-up needed.
    assert db.session.scalar(select(func.sum(DailyFunnel.viewable))) == 1


def test_a_batch_counted_at_once_counts_once(journal_app, variant):
    """A journal batch goes to the archive and the funnels in one transaction, past the
    inbox; loaded again under its key (a loader that died before removing its file), it
    adds nothing, even to counts no reader's stage guards (offers)."""
    story, appeal, v = variant
    events = [TrackedEvent("offer", story.id, appeal.id, v.id, None),
              TrackedEvent("rendered", story.id, appeal.id, v.id, "reader-1")]
    version = last_rollup().version
    assert count_events(events, batch_key="journal|f|0") == 2
    assert count_events(events, batch_key="journal|f|0") == 0
    assert _archived() == 2 and _inbox() == 0
    row = db.session.scalars(select(DailyFunnel)).one()
    assert (row.offers_shown, row.rendered) == (1, 1)
    assert last_rollup().version == version + 1  # what is cached from the funnels moves on


def test_a_bad_line_costs_only_its_own_events():
    """A file parses as a whole; when one line is torn or malformed, the others still load,
    each line all or nothing."""
    from supportapp.services.event_journal import _events_in

    good = [TrackedEvent("view", 1, 2, 3, f"r{n}") for n in range(3)]
    bad_row = b'{"at":"2026-11-30T03:00:00+00:00","events":[["view",1,2,3,"x"],7]}\n'
    content = _line(good[:1]) + b"not json\n" + bad_row + _line(good[1:]) + b'{"at": "20'
    assert [e.reader_id for e in _events_in(content)] == ["r0", "r1", "r2"]
    assert [e.reader_id for e in _events_in(_line(good))] == ["r0", "r1", "r2"]


def test_journal_lines_hold_the_event_fields_in_their_order():
    """_line writes each event's leading fields as FIELDS names them (the file format)."""
    from supportapp.services.event_journal import FIELDS, _events_in

    assert TrackedEvent._fields[:len(FIELDS)] == FIELDS
    event = TrackedEvent("view", 1, 2, 3, "r", "k", "pv-1")
    (back,) = _events_in(_line([event]))
    assert back[:len(FIELDS)] == event[:len(FIELDS)] and back.at is not None


def test_a_file_counts_chunk_by_chunk_whatever_shares_a_transaction(
        journal_app, variant, tmp_path, monkeypatch):
    """Each chunk of BATCH_EVENTS lines keeps its own key, so a file whose first chunk an
    earlier loader counted (one chunk a transaction, then it died) counts only the rest when
    its chunks share one transaction now, and nothing when loaded again."""
    from supportapp.services import event_journal

    story, appeal, v = variant
    monkeypatch.setattr(event_journal, "BATCH_EVENTS", 2)
    events = [TrackedEvent("view", story.id, appeal.id, v.id, f"reader-{n}") for n in range(5)]
    name = f"events-{HOST}-{_dead_pid()}-feedface_1.jsonl"
    stem = name.split(".", 1)[0]
    (tmp_path / name).write_bytes(b"".join(_line([event]) for event in events))
    assert count_events(events[:2], batch_key=f"journal|{stem}|0") == 2  # the earlier loader
    queries = []
    monkeypatch.setattr(event_journal, "count_chunks",
                        lambda chunks: queries.append(len(chunks)) or count_chunks(chunks))
    assert app_journal(journal_app).drain(str(tmp_path)) == 3
    assert queries == [3]  # three chunks (2 + 2 + 1 lines), one transaction
    assert _archived() == 5 and _views() == 5
    (tmp_path / name).write_bytes(b"".join(_line([event]) for event in events))
    assert app_journal(journal_app).drain(str(tmp_path)) == 0
    assert _archived() == 5 and _views() == 5


def test_a_journal_line_is_the_json_it_always_was():
    """_line's own encoder writes what json.dumps wrote: ASCII only, no spaces."""
    event = TrackedEvent("view", 1, 2, 3, 'r"\u00e9', None, "pv-1")
    line = _line([event, event])
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    parsed = json.loads(line)
    assert json.dumps(parsed, separators=(",", ":")).encode() + b"\n" == line
    assert parsed["events"] == [["view", 1, 2, 3, 'r"\u00e9', None, "pv-1"]] * 2
    with pytest.raises(TypeError):
        _line([TrackedEvent("view", 1, 2, 3, object())])

"""The beacon's journal: events survive their process and count exactly once."""
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, DailyFunnel, TrackingInbox
from supportapp.services.appeals import save_appeal
from supportapp.services.event_journal import HOST, _line, journal
from supportapp.services.tracking import TrackedEvent, roll_up

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
    assert list(tmp_path.iterdir())  # the journal file
    assert _views() == 3
    assert list(tmp_path.iterdir()) == []
    assert _views() == 3


def test_file_of_a_dead_process_is_loaded_once(journal_app, variant, tmp_path):
    """A killed process's journal is loaded by another; loading it again counts nothing."""
    story, appeal, v = variant
    events = [TrackedEvent("view", story.id, appeal.id, v.id, None, f"k{n}") for n in range(5)]
    name = f"events-{HOST}-{_dead_pid()}-deadbeef_1.jsonl"
    content = _line(events[:3]) + _line(events[3:]) + b'{"at": "2026-11-2'  # torn last line
    (tmp_path / name).write_bytes(content)
    journal.drain(journal_app, str(tmp_path))
    assert _views() == 5
    (tmp_path / name).write_bytes(content)  # as if the process died before removing it
    journal.drain(journal_app, str(tmp_path))
    assert _views() == 5


def test_file_of_a_live_process_is_left_alone(journal_app, variant, tmp_path):
    """A file another live process is still writing is not taken from it."""
    story, appeal, v = variant
    name = f"events-{HOST}-{os.getppid()}-cafe0001_1.jsonl"
    (tmp_path / name).write_bytes(_line([TrackedEvent("view", story.id, appeal.id, v.id)]))
    journal.drain(journal_app, str(tmp_path))
    assert _views() == 0
    assert (tmp_path / name).exists()

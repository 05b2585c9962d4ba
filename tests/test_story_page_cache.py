"""Story pages kept per content stamp: exact invalidation seen from another app (process),
and nothing personal ever kept.

Two apps share the test database, as two gunicorn workers would: `app` (the editor's
process) writes, `reader` serves the pages. The reader keeps live appeals for an hour, so
only the content stamp can make it see a change on its next request.
"""
import re
import time
from datetime import UTC, datetime, timedelta

import lxml.html
import pytest
from sqlalchemy import event

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant
from supportapp.services.appeals import save_appeal, set_appeal_status
from supportapp.services.stories import StoryRecord, upsert_story
from supportapp.services.supporter import SUPPORTER_COOKIE, make_supporter_token
from tests.conftest import make_app


@pytest.fixture
def another_app(database_url, app):
    """Makes apps on the same database, as other worker processes would be; live appeals
    and the ticker kept for an hour."""
    made = []

    def _make(**config):
        made.append(make_app(database_url, APPEAL_CACHE_SECONDS=3600,
                             APPEAL_PROGRESS_CACHE_SECONDS=3600, APPEAL_MAX_VIEWS=100, **config))
        return made[-1]

    yield _make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def reader(another_app):
    """Another app reading the content stamp on every request."""
    return another_app(CONTENT_STAMP_SECONDS=0)


def _appeal(status="live", heading="Since you're here", **fields):
    appeal = Appeal(name="Drive", status=status, placement_paragraph=2, target_sections=[],
                    excluded_sections=[], **fields)
    appeal.variants.append(AppealVariant(
        name="only", heading=heading, body="<p>Please support us.</p>", cta_label="Give",
        preset_amounts={}, default_frequency="monthly", weight=1, is_control=True))
    save_appeal(appeal)
    return appeal


def _page(reader, slug, client=None):
    client = client or reader.test_client(use_cookies=False)
    response = client.get(f"/stories/{slug}")
    assert response.status_code == 200
    return lxml.html.fromstring(response.data)


def _headings(page):
    return [h.text_content().strip() for h in page.xpath("//section[@class='appeal']//h2")]


def test_story_edit_shows_on_the_next_request_of_another_process(reader, make_story):
    story = make_story(slug="kept", title="First title")
    assert _page(reader, "kept").xpath("//h1/text()") == ["First title"]
    assert _page(reader, "kept").xpath("//h1/text()") == ["First title"]  # from its cache
    upsert_story(StoryRecord(title="Second title", slug="kept", section=story.section,
                             body_html="<p>Rewritten.</p>"))
    db.session.commit()
    page = _page(reader, "kept")
    assert page.xpath("//h1/text()") == ["Second title"]
    assert "Rewritten." in page.text_content()


def test_new_section_shows_in_the_masthead_of_another_process(reader, make_story):
    make_story(slug="kept", section="news")
    assert "Sport" not in _page(reader, "kept").xpath("//nav")[0].text_content()
    make_story(slug="match", section="sport")
    assert "Sport" in _page(reader, "kept").xpath("//nav")[0].text_content()


def test_appeal_edit_shows_on_the_next_request_of_another_process(reader, make_story):
    make_story(slug="kept")
    appeal = _appeal(heading="Old heading")
    assert _headings(_page(reader, "kept")) == ["Old heading"]
    appeal.variants[0].heading = "New heading"
    save_appeal(appeal)
    assert _headings(_page(reader, "kept")) == ["New heading"]


def test_starting_and_ending_an_appeal_show_in_another_process(reader, make_story):
    make_story(slug="kept")
    appeal = _appeal(status="draft")
    assert _headings(_page(reader, "kept")) == []
    set_appeal_status(appeal.id, "live")
    assert _headings(_page(reader, "kept")) == ["Since you're here"]
    set_appeal_status(appeal.id, "ended")
    assert _headings(_page(reader, "kept")) == []


def test_an_appeal_ends_by_its_schedule_without_any_write(reader, make_story):
    make_story(slug="kept")
    _appeal(ends_at=datetime.now(UTC) + timedelta(seconds=1.5))
    assert _headings(_page(reader, "kept")) == ["Since you're here"]
    time.sleep(1.6)
    assert _headings(_page(reader, "kept")) == []


def test_no_story_or_appeal_query_while_nothing_changed(reader, make_story):
    make_story(slug="kept")
    _appeal()
    _page(reader, "kept")  # fills the caches
    statements = []

    def note(_conn, _cursor, sql, *_args):
        statements.append(sql.lower())

    with reader.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        _page(reader, "kept")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    reads = [s for s in statements if s.lstrip().startswith("select")]
    assert len(reads) == 1 and "from content_version" in reads[0]


def _count_in(page):
    (heading,) = _headings(page)
    return int(re.fullmatch(r"You read (\d+) stor(?:y|ies)", heading).group(1))


def test_readers_alternating_each_get_their_own_values(app, reader, make_story):
    """A stale cache must never show a reader another reader's article count or supporter
    state: readers take turns through the same cached page."""
    for slug in ("kept", "other-1", "other-2"):
        make_story(slug=slug)
    _appeal(heading="You read {article_count}")
    keen, new, supporter = (reader.test_client() for _ in range(3))
    supporter.set_cookie(SUPPORTER_COOKIE, make_supporter_token(app.config["SECRET_KEY"],
                                                                "one_off"))
    for slug in ("other-1", "other-2"):
        keen.get(f"/stories/{slug}")
    for _ in range(3):
        assert _count_in(_page(reader, "kept", keen)) == 3
        assert _count_in(_page(reader, "kept", new)) == 1
        assert _headings(_page(reader, "kept", supporter)) == []
    assert keen.get_cookie("sa_reads").value != new.get_cookie("sa_reads").value


def test_a_kept_stamp_shows_a_change_within_its_time_and_at_once_where_made(another_app,
                                                                           make_story):
    """With CONTENT_STAMP_SECONDS=1 another process sees an edit within a second; the
    process that made it, on its next request."""
    kept, editor = another_app(CONTENT_STAMP_SECONDS=1), another_app(CONTENT_STAMP_SECONDS=1)
    story = make_story(slug="kept", title="First title")
    for served in (kept, editor):
        assert _page(served, "kept").xpath("//h1/text()") == ["First title"]
    with editor.app_context():
        upsert_story(StoryRecord(title="Second title", slug="kept", section=story.section,
                                 body_html="<p>Rewritten.</p>"))
        db.session.commit()
    assert _page(editor, "kept").xpath("//h1/text()") == ["Second title"]
    time.sleep(1.1)
    assert _page(kept, "kept").xpath("//h1/text()") == ["Second title"]

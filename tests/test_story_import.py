"""`flask stories import` reads JSON, Markdown, HTML and feeds; bad files name themselves."""
from pathlib import Path

import pytest
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import Story

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def _count():
    return db.session.scalar(select(func.count()).select_from(Story))


def _story(slug):
    return db.session.scalar(select(Story).where(Story.slug == slug))


def test_imports_every_format(runner):
    """One run imports JSON, Markdown, HTML, RSS and Atom files."""
    files = [str(FIXTURES / n) for n in ("stories.json", "ferry.md", "marsh.html",
                                          "feed.rss", "feed.atom")]
    result = runner.invoke(args=["stories", "import", *files])
    assert result.exit_code == 0, result.output
    assert _count() == 7
    ferry = _story("ferry-timetable-december")
    assert "<strong>cut two morning sailings</strong>" in ferry.body_html
    assert ferry.byline == "Sam Okafor"
    marsh = db.session.scalar(select(Story).where(
        Story.source_url == "https://news.example.org/2026/marsh-funding"))
    assert marsh.title == "Salt marsh restoration gets funding"
    assert marsh.section == "environment" and marsh.byline == "Lee Park"
    assert "<h1>" not in marsh.body_html and "Work begins in spring." in marsh.body_html
    bus = db.session.scalar(select(Story).where(
        Story.source_url == "https://news.example.org/2026/bus-routes"))
    assert bus.section == "education" and bus.published_at.day == 9
    festival = db.session.scalar(select(Story).where(
        Story.source_url == "https://news.example.org/2026/festival"))
    assert festival.byline == "Rita Gomes" and "Organisers" in festival.body_html


def test_reimport_updates_instead_of_duplicating(runner, tmp_path):
    """The same slug or source URL imported again updates the story in place."""
    runner.invoke(args=["stories", "import", str(FIXTURES / "feed.rss"),
                        str(FIXTURES / "stories.json")])
    before = _count()
    changed = (FIXTURES / "feed.rss").read_text().replace(
        "School board approves new bus routes", "School board approves four bus routes")
    (tmp_path / "feed.rss").write_text(changed)
    result = runner.invoke(args=["stories", "import", str(tmp_path / "feed.rss"),
                                 str(FIXTURES / "stories.json")])
    assert result.exit_code == 0, result.output
    assert _count() == before
    bus = db.session.scalar(select(Story).where(
        Story.source_url == "https://news.example.org/2026/bus-routes"))
    assert bus.title == "School board approves four bus routes"
    assert bus.slug == "school-board-approves-new-bus-routes"  # the URL stays put


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("broken.json", '[{"title": "A",\n "body": "<p>x</p>"\n', "broken.json:3"),
        ("notitle.json", '{"body": "<p>x</p>", "section": "x"}', "missing required field 'title'"),
        ("nobody.md", "---\ntitle: Hello\n---\n", "missing required field 'body'"),
        ("badyaml.md", "---\ntitle: [unclosed\nslug: x\n---\nBody", "badyaml.md:"),
        ("broken.rss", "<?xml version='1.0'?><rss><channel><item><title>x</title></chan",
         "broken.rss:"),
        ("notes.txt", "hello", "unknown file type"),
        ("baddate.json", '{"title": "T", "body": "<p>x</p>", "published": "yesterday"}',
         "not an ISO 8601 date"),
    ],
)
def test_bad_file_is_named_and_fails(runner, tmp_path, name, content, expected):
    """A malformed file or a missing field: clear message naming the file, exit 1."""
    path = tmp_path / name
    path.write_text(content)
    result = runner.invoke(args=["stories", "import", str(path)])
    assert result.exit_code == 1
    assert expected in result.output
    assert str(path) in result.output
    assert _count() == 0


def test_bad_file_writes_nothing_and_others_still_import(runner, tmp_path):
    """A file whose second story is bad writes none of its stories; good files still land."""
    bad = tmp_path / "half.json"
    bad.write_text('[{"slug": "good-one", "title": "Good", "body": "<p>x</p>"},'
                   ' {"slug": "Bad Slug!", "title": "Bad", "body": "<p>y</p>"}]')
    result = runner.invoke(args=["stories", "import", str(bad), str(FIXTURES / "ferry.md")])
    assert result.exit_code == 1
    assert "story #2" in result.output
    assert _story("good-one") is None
    assert _story("ferry-timetable-december") is not None


def test_missing_file_is_a_clear_error(runner, tmp_path):
    """A path that does not exist is reported, not a traceback."""
    result = runner.invoke(args=["stories", "import", str(tmp_path / "nope.json")])
    assert result.exit_code != 0
    assert "nope.json" in result.output
    assert "Traceback" not in result.output

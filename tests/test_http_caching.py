"""Conditional requests (ETag, Last-Modified, 304) and Cache-Control on reader pages, and
static files under content-hashed names (web/http_cache.py, web/static_files.py)."""
import gzip
import re
from pathlib import Path

import pytest

from supportapp.models import Appeal, AppealVariant
from supportapp.services.appeals import save_appeal
from supportapp.services.supporter import SUPPORTER_COOKIE, make_supporter_token
from supportapp.web.http_cache import NoSharedCookies
from supportapp.web.static_files import ensure_build

STATIC = Path(__file__).resolve().parent.parent / "static"


def _live_appeal(**fields):
    values = {"name": "Drive", "status": "live", "placement_paragraph": 2,
              "target_sections": [], "excluded_sections": [], "holdback_percent": 0}
    values.update(fields)
    appeal = Appeal(**values)
    appeal.variants.append(AppealVariant(
        name="control", heading="You read {article_count}", body="<p>Please.</p>",
        cta_label="Give", preset_amounts={}, default_frequency="monthly", weight=1,
        is_control=True))
    save_appeal(appeal)
    return appeal


def _has_appeal(response):
    return b'class="appeal"' in response.data


def _never_shared(response):
    cache_control = response.headers.get("Cache-Control", "")
    return "public" not in cache_control and "private" in cache_control


def test_story_without_appeal_answers_304_with_its_cookies(client, make_story):
    """No live appeal: a strong ETag and Last-Modified; the same ETag back gets an empty 304
    that still sets the reader's cookies; the page sets cookies, so it is private."""
    story = make_story()
    first = client.get(f"/stories/{story.slug}")
    assert first.status_code == 200 and first.headers["ETag"].startswith('"')
    assert first.headers["Last-Modified"] and "Cookie" in first.headers["Vary"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get(f"/stories/{story.slug}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert any(c.startswith("sa_reads=") for c in again.headers.getlist("Set-Cookie"))
    since = client.get(f"/stories/{story.slug}",
                       headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


@pytest.mark.parametrize("headers", [
    {"If-None-Match": '"not-this-page"'},
    {"If-None-Match": 'W/"'},
    {"If-None-Match": ",,,"},
    {"If-Modified-Since": "yesterday, around noon"},
    {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
    {"If-Modified-Since": "Mon, 99 Foo 2001 99:99:99 GMT"},
])
def test_mismatched_or_malformed_validators_get_the_page(client, make_story, headers):
    story = make_story()
    client.get(f"/sections/{story.section}")
    for path in (f"/stories/{story.slug}", f"/sections/{story.section}"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200 and story.title.encode() in response.data


def test_story_edit_changes_the_etag(client, make_story):
    story = make_story()
    before = client.get(f"/stories/{story.slug}").headers["ETag"]
    make_story(slug=story.slug, title="A corrected headline")
    after = client.get(f"/stories/{story.slug}", headers={"If-None-Match": before})
    assert after.status_code == 200 and b"A corrected headline" in after.data
    assert after.headers["ETag"] != before


def test_section_and_front_pages_are_shared_cacheable(app, client, make_story):
    story = make_story()
    for path in (f"/sections/{story.section}", "/"):
        first = client.get(path)
        assert first.headers["Cache-Control"] == (
            f"public, max-age={app.config['PUBLIC_PAGE_MAX_AGE']}")
        assert not first.headers.getlist("Set-Cookie") and "Cookie" in first.headers["Vary"]
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
    make_story(section=story.section, title="Newer story")
    after = client.get(f"/sections/{story.section}",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and b"Newer story" in after.data


def test_page_with_the_appeal_is_never_kept_or_revalidated(client, make_story):
    """A new reader sees the appeal: private, no-store, no ETag, and no conditional header
    (not even the ETag a supporter got for the same story) turns it into a 304."""
    _live_appeal()
    story = make_story()
    supporter = client.application.test_client()
    supporter.set_cookie(SUPPORTER_COOKIE, make_supporter_token(
        client.application.config["SECRET_KEY"], "one_off"))
    plain = supporter.get(f"/stories/{story.slug}")
    assert not _has_appeal(plain)
    for headers in ({}, {"If-None-Match": plain.headers["ETag"]}, {"If-None-Match": "*"},
                    {"If-Modified-Since": plain.headers["Last-Modified"]}):
        page = client.get(f"/stories/{story.slug}", headers=headers)
        assert page.status_code == 200 and _has_appeal(page)
        assert page.headers["Cache-Control"] == "private, no-store"
        assert "ETag" not in page.headers and "Last-Modified" not in page.headers


def _reader(app, state, slug):
    client = app.test_client()
    if state == "held back":  # half the readers are (the most an appeal holds back)
        for _ in range(60):
            if not _has_appeal(client.get(f"/stories/{slug}")):
                break
            client = app.test_client()
    if state == "supporter":
        client.set_cookie(SUPPORTER_COOKIE, make_supporter_token(app.config["SECRET_KEY"],
                                                                 "monthly"))
    if state == "capped":
        for _ in range(app.config["APPEAL_MAX_VIEWS"]):
            client.get(f"/stories/{slug}")
    return client


@pytest.mark.parametrize("state", ["new", "capped", "supporter", "held back", "no appeal"])
def test_no_story_page_is_shared_cacheable_in_any_reader_state(app, make_story, state):
    """Whatever the reader's state, a story page is never marked cacheable by a shared cache;
    only a page without the appeal has an ETag, and only that one can be a 304."""
    if state != "no appeal":
        _live_appeal(holdback_percent=50 if state == "held back" else 0)
    story = make_story()
    client = _reader(app, state, story.slug)
    page = client.get(f"/stories/{story.slug}")
    assert _never_shared(page)
    assert _has_appeal(page) == (state == "new")
    assert ("ETag" in page.headers) == (state != "new")
    if "ETag" in page.headers:
        again = client.get(f"/stories/{story.slug}",
                           headers={"If-None-Match": page.headers["ETag"]})
        assert again.status_code == 304 and _never_shared(again)


def test_a_response_setting_a_cookie_is_never_public():
    """The last check, at the WSGI level, whatever set the cookie."""
    def wsgi(environ, start_response):
        start_response("200 OK", [("Cache-Control", "public, max-age=60"),
                                  ("Set-Cookie", "session=x")])
        return [b"page"]

    seen = {}
    NoSharedCookies(wsgi)({}, lambda status, headers, exc=None: seen.update(headers))
    assert seen["Cache-Control"] == "private, no-cache"


def _static_urls(page):
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page.get_data(as_text=True))


def test_pages_link_hashed_static_files_kept_for_a_year(client, make_story):
    _live_appeal()
    story = make_story()
    urls = _static_urls(client.get(f"/stories/{story.slug}"))
    assert {re.sub(r"\.[0-9a-f]{12}\.", ".", u) for u in urls} == {
        "/static/css/site.css", "/static/js/giving.js", "/static/js/appeal.js"}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        plain = re.sub(r"\.[0-9a-f]{12}\.", ".", url).removeprefix("/static/")
        assert response.data == (STATIC / plain).read_bytes()


def test_compressed_copy_served_to_a_gzip_client(client):
    url = next(u for u in _static_urls(client.get("/")) if "site." in u)
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert gzip.decompress(response.data) == (STATIC / "css/site.css").read_bytes()


def test_unknown_hash_is_404_and_plain_names_stay_for_other_sites(client):
    assert client.get("/static/css/site.0123456789ab.css").status_code == 404
    plain = client.get("/static/js/appeal.js")  # embed.js loads it on other sites
    assert plain.status_code == 200 and "immutable" not in plain.headers["Cache-Control"]
    assert client.get("/embed.js").status_code == 200


def test_build_is_made_once_per_content(tmp_path):
    source = tmp_path / "static"
    (source / "css").mkdir(parents=True)
    (source / "css" / "a.css").write_text("body { color: black; }\n" * 50)
    first = ensure_build(source, tmp_path / "build")
    assert ensure_build(source, tmp_path / "build") == first
    names = {p.name for p in (first / "css").iterdir()}
    hashed = next(n for n in names if re.fullmatch(r"a\.[0-9a-f]{12}\.css", n))
    assert {"a.css", "a.css.gz", hashed, hashed + ".gz"} <= names
    (source / "css" / "a.css").write_text("body { color: red; }\n" * 50)
    second = ensure_build(source, tmp_path / "build")
    assert second != first and hashed not in {p.name for p in (second / "css").iterdir()}

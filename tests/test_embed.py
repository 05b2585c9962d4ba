"""The embed endpoint and its CORS rule."""
import lxml.html
import pytest
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, Story
from supportapp.services.appeals import save_appeal

PARTNER = "https://partner.example"


@pytest.fixture
def embed_app(app, make_story):
    app.config["EMBED_ORIGINS"] = (PARTNER,)
    appeal = Appeal(name="Drive", status="live", target_sections=[], excluded_sections=[])
    appeal.variants.append(AppealVariant(name="c", heading="Since you're here", body="<p>Hi</p>",
                                         cta_label="Give", preset_amounts={},
                                         default_frequency="one_off", weight=1, is_control=True))
    save_appeal(appeal)
    make_story(slug="known-story")
    return app


def _stories():
    return db.session.scalar(select(func.count()).select_from(Story))


def test_appeal_json_for_known_slug(embed_app, client):
    """A known slug returns the rendered appeal with its appeal and variant ids."""
    response = client.get("/api/appeal?story=known-story", headers={"Origin": PARTNER})
    assert response.status_code == 200
    data = response.get_json()
    assert data["appeal_id"] and data["variant_id"]
    assert '<section class="appeal"' in data["html"]
    form = lxml.html.fromstring(data["html"]).xpath("//form")[0]
    assert form.get("method") == "post" and form.get("target") == "_top"
    assert form.get("action") == "http://localhost/contribute/start"  # this site, one click
    assert "csrf_token" not in data["html"]
    assert response.headers["Access-Control-Allow-Origin"] == PARTNER
    assert "Origin" in response.headers["Vary"]


def test_cors_only_for_listed_origins(embed_app, client):
    """Another origin gets no Access-Control-Allow-Origin header."""
    response = client.get("/api/appeal?story=known-story",
                          headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_unknown_url_on_allowed_site_is_registered_once(embed_app, client):
    """A new story URL on an allowed site is registered on first request, once."""
    before = _stories()
    url = f"{PARTNER}/2026/11/new-ferry?utm_source=x#top"
    first = client.get("/api/appeal", query_string={"story": url, "title": "New ferry"})
    second = client.get("/api/appeal", query_string={"story": f"{PARTNER}/2026/11/new-ferry"})
    assert first.status_code == second.status_code == 200
    assert first.get_json()["story"] == second.get_json()["story"]
    assert _stories() == before + 1
    story = db.session.scalar(select(Story).where(Story.slug == first.get_json()["story"]))
    assert story.is_external and story.title == "New ferry"
    assert story.source_url == f"{PARTNER}/2026/11/new-ferry"
    assert client.get(f"/stories/{story.slug}").status_code == 404  # not one of our pages


@pytest.mark.parametrize(
    "query, status",
    [
        ("", 400),
        ("?story=", 400),
        ("?story=Not%20A%20Slug", 400),
        ("?story=ftp://partner.example/x", 400),
        ("?story=https://", 400),
        ("?story=unknown-slug", 404),
        ("?story=https://evil.example/2026/story", 404),
        ("?story=" + "a" * 2500, 400),
    ],
)
def test_bad_story_reference_is_json_4xx(embed_app, client, query, status):
    """Missing, malformed or foreign stories answer 400/404 JSON, and register nothing."""
    before = _stories()
    response = client.get("/api/appeal" + query)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
    assert _stories() == before


def test_disabled_story_gets_empty_appeal(embed_app, client, make_story):
    """A story with the appeal switched off gets no appeal HTML."""
    make_story(slug="sensitive", appeal_disabled=True)
    data = client.get("/api/appeal?story=sensitive").get_json()
    assert data["html"] == "" and data["appeal_id"] is None


def test_embed_script_served(client):
    """/embed.js is JavaScript that looks for the data-supportapp-story marker."""
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert b"data-supportapp-story" in response.data and b"/api/appeal" in response.data

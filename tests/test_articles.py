"""Front page, section pages and story pages."""
from lxml import html as lxml_html


def test_home_lists_latest_first(client, make_story):
    """The front page shows every story, newest first."""
    from datetime import UTC, datetime

    make_story(title="Older story", published_at=datetime(2026, 10, 1, tzinfo=UTC))
    make_story(title="Newer story", published_at=datetime(2026, 11, 1, tzinfo=UTC))
    page = client.get("/")
    assert page.status_code == 200
    titles = lxml_html.fromstring(page.data).xpath("//li[@class='story-card']//h2/a/text()")
    assert titles == ["Newer story", "Older story"]


def test_section_page_only_its_section(client, make_story):
    """A section page lists that section's stories and no others."""
    make_story(title="Council budget", section="local-government")
    make_story(title="Tide pools", section="environment")
    page = client.get("/sections/environment")
    assert page.status_code == 200
    assert b"Tide pools" in page.data and b"Council budget" not in page.data
    assert b"<h1 class=\"page-title\">Environment</h1>" in page.data


def test_story_page_renders_body(client, make_story):
    """The story page carries title, byline and body."""
    story = make_story(title="Harbour dredging", byline="Ana Ruiz",
                       body_html="<p>First.</p><p>Second.</p>")
    page = client.get(f"/stories/{story.slug}")
    assert page.status_code == 200
    doc = lxml_html.fromstring(page.data)
    assert doc.xpath("string(//h1)") == "Harbour dredging"
    assert doc.xpath("//div[@class='story__body']/p/text()") == ["First.", "Second."]
    assert b"By Ana Ruiz" in page.data


def test_story_body_stripped_of_scripts(client, make_story):
    """A story written with script, handlers and javascript: URLs renders none of them."""
    story = make_story(body_html='<p onmouseover="steal()">Hi</p><script>steal()</script>'
                                 '<p><a href="javascript:steal()">x</a></p>')
    page = client.get(f"/stories/{story.slug}").data.decode()
    assert "steal()" not in page
    assert "<p>Hi</p>" in page


def test_unknown_story_is_404_in_site_look(client):
    """An unknown slug answers 404 with the masthead and a way home."""
    page = client.get("/stories/no-such-story")
    assert page.status_code == 404
    assert b"masthead" in page.data and b"Back to the front page" in page.data


def test_unknown_section_is_404(client, make_story):
    """A section with no stories is a 404 page, not an empty list."""
    make_story(section="housing")
    assert client.get("/sections/astrology").status_code == 404


def test_security_headers(client):
    """Pages carry a Content-Security-Policy that forbids inline script."""
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp

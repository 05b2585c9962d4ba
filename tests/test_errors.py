"""Error pages: in the site's look (JSON under /api/), even for requests refused before routing."""
from werkzeug.test import EnvironBuilder, run_wsgi_app

from tests.conftest import make_app

LONG_LABEL_HOST = "a" * 64 + ".example"  # DNS labels are at most 63 characters


def _status_and_page(app, path, host):
    # Not through the test client: its cookie jar decodes the Host itself and fails first.
    environ = EnvironBuilder(path=path, headers={"Host": host}).get_environ()
    app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), b"".join(app_iter).decode(), headers


def test_host_with_a_label_over_63_characters_gets_the_400_page(app):
    """Werkzeug refuses the Host before routing (BadHost); the page renders, links as paths."""
    status, page, _ = _status_and_page(app, "/", LONG_LABEL_HOST)
    assert status == 400
    assert '<a href="/">Back to the front page</a>' in page
    assert 'href="/static/css/site.' in page and LONG_LABEL_HOST not in page


def test_host_that_cannot_be_decoded_gets_400(app):
    """An "xn--" label that is not valid punycode: 400, not a UnicodeError on the login redirect."""
    status, page, _ = _status_and_page(app, "/dashboard/", "xn--zz")
    assert status == 400 and "Back to the front page" in page


def test_untrusted_host_gets_the_400_page(database_url):
    """With TRUSTED_HOSTS set, another Host is a SecurityError: a 400 page, links as paths."""
    app = make_app(database_url, TRUSTED_HOSTS=["news.example"])
    with app.app_context():
        status, page, _ = _status_and_page(app, "/stories/anything", "evil.example")
        assert status == 400 and '<a href="/">Back to the front page</a>' in page
        assert "evil.example" not in page
        assert _status_and_page(app, "/", "news.example")[0] == 200


def test_untrusted_host_under_api_gets_json(database_url):
    """The same refusal under /api/ answers JSON, like every error there."""
    app = make_app(database_url, TRUSTED_HOSTS=["news.example"])
    with app.app_context():
        status, page, headers = _status_and_page(app, "/api/appeal?story=x", "evil.example")
    assert status == 400 and headers["Content-Type"] == "application/json"
    assert '"status":400' in page.replace(" ", "")

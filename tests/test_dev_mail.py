"""/_dev/mail: in development, the local mail server's messages, listed and shown with their
links clickable; a 404 anywhere else."""
import pytest

from supportapp.extensions import db
from supportapp.security import content_security_policy
from supportapp.services.mail_worker import send_due_mail
from supportapp.services.outbox import queue_email
from tests.conftest import make_app


@pytest.fixture
def dev_client(app, database_url, mail_server):
    """A development app on the test's database, listing what `mail_server` received."""
    dev_app = make_app(database_url, SUPPORTAPP_ENV="development",
                       DEV_MAIL_DIR=str(mail_server.folder))
    return dev_app.test_client()


def _send(template, *people):
    for n, person in enumerate(people, start=1):
        queue_email(f"note:{n}", "test", person, template, n=n,
                    link=f"https://news.example/notes/{n}?a=1&b=2")
        db.session.commit()
        send_due_mail()


def _names(mail_server):
    return [path.stem for path in sorted(mail_server.folder.glob("*.eml"))]


def test_inbox_lists_messages_newest_first(dev_client, mail_server, note_template):
    """The list shows each message's recipient, subject and time, the newest first."""
    _send(note_template, "first@example.com", "second@example.com")
    page = dev_client.get("/_dev/mail").text
    assert page.index("second@example.com") < page.index("first@example.com")
    assert page.index("Note 2") < page.index("Note 1")
    oldest, newest = _names(mail_server)
    assert f'href="/_dev/mail/{newest}"' in page and f'href="/_dev/mail/{oldest}"' in page
    assert "<time datetime=" in page


def test_empty_inbox_says_so(dev_client):
    """No mail yet: the page says how mail gets there."""
    assert "No mail yet" in dev_client.get("/_dev/mail").text


def test_message_shows_text_with_links_and_html_in_a_sandboxed_frame(dev_client, mail_server,
                                                                     note_template):
    """One message: its headers, its text with the address as a link, its HTML in a frame
    that may run nothing; the page keeps the site's own Content-Security-Policy."""
    _send(note_template, "reader@example.com")
    [name] = _names(mail_server)
    response = dev_client.get(f"/_dev/mail/{name}")
    page = response.text
    assert response.status_code == 200 and "reader@example.com" in page
    assert ('<a href="https://news.example/notes/1?a=1&amp;b=2">'
            "https://news.example/notes/1?a=1&amp;b=2</a>") in page
    assert (f'<iframe class="dev-mail__html" src="/_dev/mail/{name}/html" '
            'sandbox="allow-popups allow-popups-to-escape-sandbox"') in page
    assert response.headers["Content-Security-Policy"] == \
        content_security_policy(dev_client.application.config)


def test_html_part_runs_nothing_and_opens_links_outside(dev_client, mail_server,
                                                        note_template):
    """The HTML part comes with a policy of its own: sandboxed, no script, inline styles
    only; its links open as pages of their own."""
    _send(note_template, "reader@example.com")
    [name] = _names(mail_server)
    response = dev_client.get(f"/_dev/mail/{name}/html")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "sandbox allow-popups allow-popups-to-escape-sandbox" in policy
    assert '<base target="_blank">' in response.text
    assert 'href="https://news.example/notes/1?a=1&amp;b=2"' in response.text


def test_text_only_message_has_no_frame(dev_client, mail_server):
    """A message with only a text part is shown without a frame; its HTML address is 404."""
    mail_server.handler.save(b"To: a@example.com\r\nSubject: Plain\r\n\r\nSee https://x.example/a.\r\n")
    [name] = _names(mail_server)
    page = dev_client.get(f"/_dev/mail/{name}").text
    assert "<iframe" not in page
    assert '<a href="https://x.example/a">https://x.example/a</a>.' in page
    assert dev_client.get(f"/_dev/mail/{name}/html").status_code == 404


@pytest.mark.parametrize("path", [
    "/_dev/mail/nope", "/_dev/mail/..%2Fsecret_key", "/_dev/mail/.hidden",
    "/_dev/mail/" + "9" * 101, "/_dev/mail/a%00b", "/_dev/mail/nope/html",
])
def test_unknown_or_odd_names_are_404(dev_client, path):
    """A name that is not a kept message (or could point outside the folder): 404."""
    assert dev_client.get(path).status_code == 404


@pytest.mark.parametrize("env", ["testing", "production"])
def test_not_there_outside_development(database_url, env):
    """Outside development /_dev/mail does not exist."""
    extra = {"TRUSTED_HOSTS": ["localhost"], "SERVER_NAME": "localhost"} \
        if env == "production" else {}
    other = make_app(database_url, SUPPORTAPP_ENV=env, **extra)
    assert not [r for r in other.url_map.iter_rules() if r.rule.startswith("/_dev")]
    assert other.test_client().get("/_dev/mail").status_code == 404
